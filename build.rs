//! Build script: puts the git revision into `rota --version` (`rota 0.1.0 (git abc1234)`).
//!
//! It never fails the build: without git, or outside a repository (a crates.io tarball), the
//! revision is "unknown". Cargo reruns it when HEAD moves (a checkout, a commit on the branch),
//! found through `git rev-parse --git-path` so linked worktrees and packed refs work too. An
//! uncommitted change is not marked: watching every file would rebuild on each edit.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Given from outside where there is no repository (a container build's context).
    println!("cargo:rerun-if-env-changed=ROTA_GIT_REV");
    let given = std::env::var("ROTA_GIT_REV")
        .ok()
        .filter(|r| !r.is_empty() && r != "unknown");
    let rev = given
        .or_else(|| git(&["rev-parse", "--short=7", "HEAD"]))
        .filter(|r| r.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=ROTA_GIT_REV={rev}");
    // HEAD names the branch; the branch's ref file (or packed-refs) holds the commit.
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(r);
    }
    for w in watch {
        if let Some(p) = git(&["rev-parse", "--path-format=absolute", "--git-path", &w]) {
            let p = PathBuf::from(p);
            // A path that does not exist would make cargo rerun this script on every build.
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
}
