//! Where reports go (standard output, a file, or a directory of per-capture files) and how they
//! get there: through a temporary file renamed into place when complete; it never overwrites
//! an existing file unless told to.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputTarget {
    /// Standard output (`-`).
    Stdout,
    /// One file for all captures.
    File(PathBuf),
    /// A directory receiving one file per capture.
    Dir(PathBuf),
}

impl OutputTarget {
    /// `-` is standard output; an existing directory, or a path ending in `/`, is a directory;
    /// anything else is a file.
    pub fn from_arg(arg: &str) -> OutputTarget {
        if arg == "-" {
            OutputTarget::Stdout
        } else if arg.ends_with('/')
            || arg.ends_with(std::path::MAIN_SEPARATOR)
            || Path::new(arg).is_dir()
        {
            OutputTarget::Dir(PathBuf::from(arg))
        } else {
            OutputTarget::File(PathBuf::from(arg))
        }
    }
}

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The file exists and `--force` was not given.
    #[error(
        "{path} already exists: choose another name, delete it, or pass --force to overwrite it"
    )]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The file or its temporary copy could not be created or renamed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file written under a temporary name and renamed to its final name on
/// [`commit`](AtomicFile::commit). Dropped without commit, the temporary file is removed, so
/// an interrupted run never leaves a half-written report under the final name.
pub struct AtomicFile {
    tmp: PathBuf,
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    sink: io::Sink,
    /// The target is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO): written in place,
    /// because renaming a file over it would replace the device or pipe.
    direct: bool,
}

impl AtomicFile {
    /// Creates the temporary file next to `path`. Fails if `path` exists and `force` is false.
    pub fn create(path: &Path, force: bool) -> Result<AtomicFile, OutputError> {
        if let Ok(meta) = fs::metadata(path) {
            if !meta.is_file() && !meta.is_dir() {
                // A device or a pipe holds nothing to lose: written as it is, never replaced.
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|source| OutputError::Io {
                        path: path.to_path_buf(),
                        source,
                    })?;
                return Ok(AtomicFile {
                    tmp: path.to_path_buf(),
                    path: path.to_path_buf(),
                    writer: Some(BufWriter::new(file)),
                    sink: io::sink(),
                    direct: true,
                });
            }
        }
        if !force && path.exists() {
            return Err(OutputError::Exists {
                path: path.to_path_buf(),
            });
        }
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".into());
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.tamper-tmp-{}-{n}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|source| OutputError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(AtomicFile {
            tmp,
            path: path.to_path_buf(),
            writer: Some(BufWriter::new(file)),
            sink: io::sink(),
            direct: false,
        })
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self.writer.as_mut() {
            Some(w) => w,
            None => &mut self.sink,
        }
    }

    /// Flushes and renames the file into place.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let io_err = |source| OutputError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(w) = self.writer.take() {
            let file = w.into_inner().map_err(|e| io_err(e.into_error()))?;
            if self.direct {
                return Ok(());
            }
            file.sync_all().map_err(io_err)?;
        }
        if self.direct {
            return Ok(());
        }
        fs::rename(&self.tmp, &self.path).map_err(io_err)?;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() && !self.direct {
            self.writer = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(OutputTarget::from_arg("-"), OutputTarget::Stdout);
        assert_eq!(
            OutputTarget::from_arg("out/"),
            OutputTarget::Dir("out/".into())
        );
        assert_eq!(
            OutputTarget::from_arg("r.jsonl"),
            OutputTarget::File("r.jsonl".into())
        );
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            OutputTarget::from_arg(d.path().to_str().unwrap()),
            OutputTarget::Dir(d.path().to_path_buf())
        );
    }

    #[test]
    fn atomic_write_refuses_overwrite_and_cleans_up() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("report.jsonl");
        let mut f = AtomicFile::create(&p, false).unwrap();
        f.writer().write_all(b"{}\n").unwrap();
        assert!(!p.exists(), "nothing under the final name before commit");
        f.commit().unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"{}\n");
        assert!(matches!(
            AtomicFile::create(&p, false),
            Err(OutputError::Exists { .. })
        ));
        {
            let mut g = AtomicFile::create(&p, true).unwrap();
            g.writer().write_all(b"partial").unwrap();
            // dropped without commit
        }
        assert_eq!(fs::read(&p).unwrap(), b"{}\n");
        let leftovers: Vec<_> = fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary file removed");
    }
}
