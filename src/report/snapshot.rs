//! Test helper comparing rendered output with files committed under `src/report/snapshots/`;
//! it only reads and (with `UPDATE_SNAPSHOTS=1`) rewrites those files, never anything else.

use std::fs;
use std::path::PathBuf;

/// Compares `actual` with `src/report/snapshots/<name>`, or rewrites that file when the
/// environment has `UPDATE_SNAPSHOTS=1`.
pub(super) fn assert_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/report/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).expect("create the snapshot directory");
        }
        fs::write(&path, actual).expect("write the snapshot");
        return;
    }
    let hint = "if the change is intended, rerun with UPDATE_SNAPSHOTS=1 \
                (UPDATE_SNAPSHOTS=1 cargo test --lib report::) and review `git diff`";
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("snapshot {} unreadable ({e}); {hint}", path.display()));
    if expected == actual {
        return;
    }
    let mut exp_lines = expected.lines();
    let mut act_lines = actual.lines();
    let mut line = 1;
    loop {
        match (exp_lines.next(), act_lines.next()) {
            (Some(e), Some(a)) if e == a => line += 1,
            (None, None) => panic!(
                "snapshot {} differs only in line endings or the final newline; {hint}",
                path.display()
            ),
            (e, a) => panic!(
                "snapshot {} differs at line {line}:\n  expected: {}\n  actual:   {}\n{hint}",
                path.display(),
                e.unwrap_or("<end of file>"),
                a.unwrap_or("<end of output>"),
            ),
        }
    }
}
