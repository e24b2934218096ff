//! The manual pages in docs/man are what `tamper man` generates from the command-line
//! definition (regenerate with `TAMPER_UPDATE=1 cargo test --test manpages`), and the shell
//! completions know every command.

use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

#[test]
fn committed_man_pages_match_the_cli() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man");
    let pages = tamper::cli::man_pages().expect("render man pages");
    let update = std::env::var_os("TAMPER_UPDATE").is_some();
    if update {
        std::fs::create_dir_all(&dir).expect("docs/man");
    }
    let mut names = Vec::new();
    for (name, page) in &pages {
        let path = dir.join(name);
        names.push(name.clone());
        if update {
            std::fs::write(&path, page).expect("write man page");
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{} is missing ({e}): run `TAMPER_UPDATE=1 cargo test --test manpages`",
                path.display()
            )
        });
        // `--format parquet` exists only with the `parquet` feature: lines naming it are left
        // out of the comparison so the test holds with and without the feature.
        // The bullet macro (`.IP`) that opens a parquet line goes with it.
        let comparable = |b: &[u8]| -> String {
            let text = String::from_utf8_lossy(b);
            let mut kept: Vec<&str> = Vec::new();
            for line in text.lines() {
                if line.to_ascii_lowercase().contains("parquet") {
                    if kept.last().is_some_and(|l| l.starts_with(".IP")) {
                        kept.pop();
                    }
                    continue;
                }
                kept.push(line);
            }
            kept.join("\n")
        };
        assert!(
            comparable(&committed) == comparable(page),
            "{} differs from `tamper man`: run `TAMPER_UPDATE=1 cargo test --test manpages`",
            path.display()
        );
    }
    for expected in [
        "tamper.1",
        "tamper-analyze.1",
        "tamper-extract.1",
        "tamper-explain.1",
    ] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    let top = String::from_utf8_lossy(&pages[0].1).into_owned();
    assert!(top.contains(".TH tamper 1"), "{top}");
}

#[test]
fn completions_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::cargo_bin("tamper")
            .expect("binary")
            .args(["completions", shell])
            .output()
            .expect("run");
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        for cmd in [
            "analyze", "flows", "check", "diff", "merge", "explain", "extract",
        ] {
            assert!(text.contains(cmd), "{shell} completion lacks {cmd}");
        }
    }
}
