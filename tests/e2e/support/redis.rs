//! A real `redis-server` on a free loopback port, for the tests of several instances.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running redis-server; killed when dropped.
pub struct RedisServer {
    child: Child,
    /// `redis://127.0.0.1:PORT/0`.
    pub url: String,
}

impl RedisServer {
    /// Starts redis-server; `None` (with a message) when it is not installed, except under
    /// CI, where `.ci/run` installs it and its absence is a failure.
    pub fn start() -> Option<Self> {
        Self::start_on(free_port())
    }

    /// [`RedisServer::start`] on `port` (from [`free_port`]).
    pub fn start_on(port: u16) -> Option<Self> {
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("redis-server is required under CI (.ci/run installs it): {e}")
            }
            Err(e) => {
                eprintln!("skipping: redis-server is not installed ({e})");
                return None;
            }
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(RedisServer {
            child,
            url: format!("redis://127.0.0.1:{port}/0"),
        })
    }

    /// Stops the server at once, as a crash or a network cut would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
