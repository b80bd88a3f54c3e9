//! The machine's reference for durable writes: `pgbench` from many clients, each inserting
//! one row per transaction into a table with one index, synchronous commit on, in a
//! database made for the run and dropped after. A store benchmark prints its own rate
//! beside this one; the ratio is the figure that travels between machines.

use anyhow::{Context, Result, bail};
use std::process::Command;

/// Where the reference server is: `HOTLINE_TEST_PG_URL`, else the local default.
pub fn server_url() -> String {
    std::env::var("HOTLINE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Host, port and user of a `postgres://user@host:port/db` address (what the client
/// tools need to reach a database of another name on the same server).
fn parts(url: &str) -> Result<(String, String, String)> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .with_context(|| format!("{url} is not a postgres:// address"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (u.split(':').next().unwrap_or("postgres"), h),
        None => ("postgres", authority),
    };
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    Ok((host.into(), port.into(), user.into()))
}

/// `pgbench -c clients -j 2 -T seconds` inserting one row per transaction; transactions
/// per second, and the server's `synchronous_commit` setting.
pub fn pgbench_inserts(url: &str, clients: u32, seconds: u32) -> Result<(f64, String)> {
    let (host, port, user) = parts(url)?;
    let tool = |name: &str| {
        let mut c = Command::new(name);
        c.args(["-h", &host, "-p", &port, "-U", &user]);
        c
    };
    let psql = |db: &str, sql: &str| -> Result<String> {
        let out = tool("psql")
            .args(["-d", db, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .context("psql (the PostgreSQL client) is not installed")?;
        if !out.status.success() {
            bail!(
                "psql on {host}:{port}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let db = format!(
        "hotline_ref_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    psql("postgres", &format!("CREATE DATABASE {db}"))?;
    let result = (|| -> Result<(f64, String)> {
        psql(
            &db,
            "CREATE TABLE reference_write (id bigserial PRIMARY KEY, customer bigint NOT NULL, \
             at timestamptz NOT NULL DEFAULT now(), note text NOT NULL)",
        )?;
        let sync = psql(&db, "SHOW synchronous_commit")?;
        let script = std::env::temp_dir().join(format!("{db}.sql"));
        std::fs::write(
            &script,
            "\\set c random(1, 1000000)\n\
             INSERT INTO reference_write (customer, note) VALUES (:c, 'reference write');\n",
        )?;
        let out = tool("pgbench")
            .args(["-n", "-j", "2", "-c", &clients.to_string()])
            .args(["-T", &seconds.to_string(), "-f"])
            .arg(&script)
            .arg(&db)
            .output()
            .context("pgbench (PostgreSQL's benchmark) is not installed")?;
        std::fs::remove_file(&script).ok();
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!("pgbench: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        let tps = text
            .lines()
            .find(|l| l.starts_with("tps = "))
            .and_then(|l| l.split_whitespace().nth(2))
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("no tps in pgbench's output: {text}"))?;
        Ok((tps, sync))
    })();
    psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    )
    .ok();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_give_host_port_and_user() {
        assert_eq!(
            parts("postgres://app:secret@db.example:6543/hotline").unwrap(),
            ("db.example".into(), "6543".into(), "app".into())
        );
        assert_eq!(
            parts("postgresql://127.0.0.1/x").unwrap(),
            ("127.0.0.1".into(), "5432".into(), "postgres".into())
        );
        assert!(parts("mysql://x").is_err());
    }
}
