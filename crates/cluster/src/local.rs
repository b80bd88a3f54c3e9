//! NATS servers of our own on loopback ports, for tests and benchmarks: Debian's
//! `nats-server` (or `$NATS_SERVER`), JetStream on, each with its store in a temporary
//! directory; one alone or several clustered. Killed, and their directories removed,
//! when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use thiserror::Error;

/// A server could not be started.
#[derive(Debug, Error)]
#[error("cannot start {bin}: {why} (install Debian's nats-server package, or set NATS_SERVER)")]
pub struct StartError {
    /// The binary tried.
    pub bin: String,
    /// Why not.
    pub why: String,
}

/// One server of ours.
pub struct LocalNats {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
    name: String,
}

fn free_port() -> Result<u16, std::io::Error> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn binary() -> String {
    std::env::var("NATS_SERVER").unwrap_or_else(|_| {
        [
            "/usr/sbin/nats-server",
            "/usr/bin/nats-server",
            "/usr/local/bin/nats-server",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("nats-server")
        .to_string()
    })
}

impl LocalNats {
    /// One server, alone.
    pub fn start() -> Result<LocalNats, StartError> {
        let port = free_port().map_err(|e| StartError {
            bin: binary(),
            why: e.to_string(),
        })?;
        LocalNats::spawn(port, &[], format!("hotline-{port}"))
    }

    /// `n` servers clustered on loopback (JetStream replicated among them).
    pub fn cluster(n: usize) -> Result<Vec<LocalNats>, StartError> {
        let err = |e: std::io::Error| StartError {
            bin: binary(),
            why: e.to_string(),
        };
        let ports: Vec<(u16, u16)> = (0..n)
            .map(|_| Ok((free_port()?, free_port()?)))
            .collect::<Result<_, std::io::Error>>()
            .map_err(err)?;
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, c)| format!("nats://127.0.0.1:{c}"))
            .collect();
        let routes = routes.join(",");
        ports
            .iter()
            .enumerate()
            .map(|(i, (port, cluster))| {
                LocalNats::spawn(
                    *port,
                    &[
                        "--cluster_name".into(),
                        "hotline".into(),
                        "--cluster".into(),
                        format!("nats://127.0.0.1:{cluster}"),
                        "--routes".into(),
                        routes.clone(),
                    ],
                    format!("hotline-{i}-{port}"),
                )
            })
            .collect()
    }

    fn spawn(port: u16, extra: &[String], name: String) -> Result<LocalNats, StartError> {
        let bin = binary();
        let fail = |why: String| StartError {
            bin: bin.clone(),
            why,
        };
        let dir = std::env::temp_dir().join(format!("hotline-nats-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| fail(e.to_string()))?;
        let child = Command::new(&bin)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-n",
                &name,
                "-sd",
            ])
            .arg(&dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail(e.to_string()))?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                return Err(fail("it did not take connections within 10 s".into()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(LocalNats {
            child: Some(child),
            dir,
            port,
            name,
        })
    }

    /// Its server name (as JetStream names a stream's leader).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its client address.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The addresses of several, comma-separated (for a client of the cluster).
    pub fn urls(servers: &[LocalNats]) -> String {
        servers
            .iter()
            .map(LocalNats::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Kill it now (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for LocalNats {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
