//! Builds the GraphiQL page's script, stylesheet and editor workers from the npm
//! packages pinned in `graphiql/package-lock.json` (`npm ci`, then esbuild), into
//! `OUT_DIR/graphiql`, where `src/http/graphiql.rs` embeds them in the binary.
//! Without npm the binary still builds, serving a page that says why GraphiQL is
//! missing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    for path in [
        "graphiql/src",
        "graphiql/package.json",
        "graphiql/package-lock.json",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    let source = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
        .join("graphiql");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("graphiql");
    std::fs::create_dir_all(&out).expect("create OUT_DIR/graphiql");
    if let Err(reason) = build(&source, &out) {
        println!(
            "cargo:warning=GraphiQL was not built ({reason}); /graphiql will say so. Install Node.js and npm, then rebuild."
        );
        let note = format!("/* GraphiQL was not built: {reason} */");
        let script = format!(
            "{note}\ndocument.getElementById('graphiql').textContent = \
             'GraphiQL was not built into this binary (Node.js and npm are needed at build time). \
             The API itself works at /graphql.';"
        );
        std::fs::write(out.join("graphiql.js"), script).expect("write the fallback script");
        std::fs::write(out.join("graphiql.css"), &note).expect("write the fallback stylesheet");
        for worker in ["editor.worker.js", "json.worker.js", "graphql.worker.js"] {
            std::fs::write(out.join(worker), &note).expect("write a fallback worker");
        }
    }
}

fn build(source: &Path, out: &Path) -> Result<(), String> {
    let installed = source.join("node_modules/.package-lock.json");
    let lock = source.join("package-lock.json");
    if !is_newer(&installed, &lock) {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(source))?;
    }
    run(Command::new("npm")
        .args(["run", "build", "--silent"])
        .env("OUT", out)
        .current_dir(source))
}

fn is_newer(a: &Path, b: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(a), modified(b)), (Some(a), Some(b)) if a >= b)
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "npm failed: {}",
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .last()
            .unwrap_or("no message")
    ))
}
