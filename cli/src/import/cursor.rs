//! Where an import resumes: how many events of a plan the stack acknowledged, kept in a
//! small file beside the input, written after every batch (replaced whole, so a crash
//! leaves the old count or the new one, never half a file).

use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    #[error("cannot write the import's cursor {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub trait Cursor: Send + Sync {
    /// Events of the plan `fingerprint` already acknowledged (0 for another plan).
    fn load(&self, fingerprint: &str) -> Result<usize, CursorError>;
    fn save(&self, fingerprint: &str, sent: usize) -> Result<(), CursorError>;
    /// The plan is done: the next run of it starts over (and finds only duplicates).
    fn finish(&self, fingerprint: &str) -> Result<(), CursorError>;
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    fingerprint: String,
    sent: usize,
}

/// The cursor as a JSON file.
pub struct CursorFile {
    pub path: PathBuf,
}

impl Cursor for CursorFile {
    fn load(&self, fingerprint: &str) -> Result<usize, CursorError> {
        let saved = std::fs::read_to_string(&self.path).ok().and_then(|t| serde_json::from_str::<Saved>(&t).ok());
        Ok(saved.filter(|s| s.fingerprint == fingerprint).map_or(0, |s| s.sent))
    }

    fn save(&self, fingerprint: &str, sent: usize) -> Result<(), CursorError> {
        let write = |source| CursorError::Write { path: self.path.clone(), source };
        let text = serde_json::to_string(&Saved { fingerprint: fingerprint.to_owned(), sent }).expect("serialises");
        let partial = self.path.with_extension("partial");
        std::fs::write(&partial, text).map_err(write)?;
        std::fs::rename(&partial, &self.path).map_err(write)
    }

    fn finish(&self, _: &str) -> Result<(), CursorError> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CursorError::Write { path: self.path.clone(), source: e })
            }
            _ => Ok(()),
        }
    }
}

/// In memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryCursor(Mutex<Option<(String, usize)>>);

impl Cursor for MemoryCursor {
    fn load(&self, fingerprint: &str) -> Result<usize, CursorError> {
        Ok(self.0.lock().unwrap().as_ref().filter(|(f, _)| f == fingerprint).map_or(0, |(_, n)| *n))
    }

    fn save(&self, fingerprint: &str, sent: usize) -> Result<(), CursorError> {
        *self.0.lock().unwrap() = Some((fingerprint.to_owned(), sent));
        Ok(())
    }

    fn finish(&self, _: &str) -> Result<(), CursorError> {
        *self.0.lock().unwrap() = None;
        Ok(())
    }
}
