//! `cargo lambda watch` as a test fixture: every function of the workspace served on a
//! free loopback port with the local stack's environment, stopped when dropped.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The first request compiles the function: allow for a cold debug build on 2 cores.
const FIRST_BUILD: Duration = Duration::from_secs(900);

pub struct LambdaWatch {
    child: Child,
    pub url: String,
    log: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot start cargo lambda watch ({0}); run `make tools`")]
    Spawn(#[source] std::io::Error),
    #[error("cargo lambda watch did not serve {function} in time; see {log}")]
    NotReady { function: String, log: String },
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl LambdaWatch {
    /// Starts serving; `env_file` is the local stack's `stack.env`.
    pub fn start(env_file: &Path) -> Result<Self, WatchError> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_path_buf();
        let port = free_port().map_err(WatchError::Spawn)?;
        let log = env_file.with_file_name(format!("watch-{port}.log"));
        let out = File::create(&log).map_err(WatchError::Spawn)?;
        let err = out.try_clone().map_err(WatchError::Spawn)?;
        let child = Command::new(root.join(".venv/bin/cargo-lambda"))
            .args(["lambda", "watch", "--ignore-changes", "--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(port.to_string())
            .arg("--env-file")
            .arg(env_file)
            .current_dir(&root)
            .env("PATH", format!("{}:{}", root.join(".venv/bin").display(), std::env::var("PATH").unwrap_or_default()))
            // Its own process group, so dropping it stops the functions it runs too.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(WatchError::Spawn)?;
        Ok(Self { child, url: format!("http://127.0.0.1:{port}"), log })
    }

    /// The function URL of `function` (cargo lambda's `/lambda-url/<name>` prefix).
    pub fn function_url(&self, function: &str, path: &str) -> String {
        function_url(&self.url, function, path)
    }

    /// Waits until `GET <function URL><path>` answers 2xx (the first call compiles).
    pub async fn wait_until_serving(&mut self, function: &str, path: &str) -> Result<(), WatchError> {
        let url = self.function_url(function, path);
        let child = &mut self.child;
        if poll_until_ok(&url, || matches!(child.try_wait(), Ok(Some(_)))).await {
            return Ok(());
        }
        Err(WatchError::NotReady { function: function.to_owned(), log: self.log.display().to_string() })
    }
}

/// The function URL of `function` on the `cargo lambda watch` at `base`.
pub fn function_url(base: &str, function: &str, path: &str) -> String {
    format!("{}/lambda-url/{function}{path}", base.trim_end_matches('/'))
}

/// Polls `GET url` until it answers 2xx (true), the server is `gone` or the first build's
/// allowance runs out (false). Also for a watch someone else runs (`make demo`'s).
pub async fn poll_until_ok(url: &str, mut gone: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < FIRST_BUILD && !gone() {
        if let Ok(response) = reqwest::get(url).await
            && response.status().is_success()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

impl Drop for LambdaWatch {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}
