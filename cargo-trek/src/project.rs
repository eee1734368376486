//! The Cargo package trek works on.
//!
//! A package's own `Cargo.toml` says everything trek needs but the target directory (its
//! name, its build script, whether it depends on `trek-runtime`), so trek reads it directly:
//! `cargo metadata` costs about 40 ms, more than the rest of a `cargo trek up` with nothing to
//! do. `cargo metadata` is still what finds the target directory (workspaces,
//! `CARGO_TARGET_DIR`, `.cargo/config.toml`'s `build.target-dir`), asked only when a command
//! needs it (the local server, qa's default snapshot folder), and what resolves a virtual
//! workspace manifest.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use cargo_metadata::{MetadataCommand, Package, TargetKind};

use crate::error::Error;

/// The package, as far as trek needs it: where it lives, what it is called, where its build
/// output goes (the local server lives under `target/trek/`) and its build script, if any.
#[derive(Debug, Clone)]
pub struct Project {
    /// The package's name.
    pub name: String,
    /// The package's `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The folder holding `Cargo.toml` (and `Trek.toml`, `.env`, `migrations/`).
    pub root: PathBuf,
    /// Cargo's target directory, asked of `cargo metadata` when first needed.
    target_dir: TargetDir,
    /// The build script Cargo runs for the package, when it has one.
    pub build_script: Option<PathBuf>,
    /// Whether the package depends on `trek-runtime` (to embed its migrations).
    pub depends_on_trek: bool,
}

/// The target directory: known, or found with `cargo metadata` on first use.
#[derive(Debug, Clone, Default)]
struct TargetDir(Arc<OnceLock<Result<PathBuf, String>>>);

impl TargetDir {
    fn known(dir: PathBuf) -> TargetDir {
        let cell = OnceLock::new();
        let _ = cell.set(Ok(dir));
        TargetDir(Arc::new(cell))
    }
}

impl Project {
    /// A project whose every fact is given (for tests of what uses a project).
    #[cfg(test)]
    pub fn given(
        name: &str,
        root: &Path,
        target_dir: &Path,
        build_script: Option<PathBuf>,
        depends_on_trek: bool,
    ) -> Project {
        Project {
            name: name.to_owned(),
            manifest_path: root.join("Cargo.toml"),
            root: root.to_path_buf(),
            target_dir: TargetDir::known(target_dir.to_path_buf()),
            build_script,
            depends_on_trek,
        }
    }

    /// Cargo's target directory for the package (`target/` of its workspace,
    /// `CARGO_TARGET_DIR`, or `build.target-dir`), from `cargo metadata` the first time.
    ///
    /// # Errors
    /// [`Error::Project`] when `cargo metadata` fails.
    pub fn target_dir(&self) -> Result<PathBuf, Error> {
        self.target_dir
            .0
            .get_or_init(|| {
                metadata(&self.manifest_path)
                    .map(|m| m.target_directory.into_std_path_buf())
                    .map_err(|e| match e {
                        Error::Project { message } => message,
                        other => other.to_string(),
                    })
            })
            .clone()
            .map_err(|message| Error::Project { message })
    }

    /// Finds the package: the one whose `Cargo.toml` is `manifest_path`, or else the nearest
    /// `Cargo.toml` above `cwd`. A workspace's root manifest without a package of its own picks
    /// the one member that has a `Trek.toml`.
    ///
    /// # Errors
    /// [`Error::Project`] when there is no `Cargo.toml`, `cargo metadata` fails, or a workspace
    /// root does not say which member to use.
    pub fn discover(manifest_path: Option<&Path>, cwd: &Path) -> Result<Project, Error> {
        let manifest = match manifest_path {
            Some(path) => {
                let path = cwd.join(path);
                if !path.is_file() {
                    return Err(Error::Project {
                        message: format!("--manifest-path {} does not exist", path.display()),
                    });
                }
                path
            }
            None => find_manifest(cwd).ok_or_else(|| Error::Project {
                message: format!(
                    "could not find Cargo.toml in {} or any parent folder; run cargo trek inside \
                     a Cargo package, or pass --manifest-path",
                    cwd.display()
                ),
            })?,
        };
        let manifest = manifest.canonicalize().unwrap_or(manifest);
        if let Some(project) = read_package(&manifest) {
            return Ok(project);
        }
        let metadata = metadata(&manifest)?;
        let target_dir = TargetDir::known(metadata.target_directory.clone().into_std_path_buf());
        let same = |p: &Package| {
            let path = p.manifest_path.as_std_path();
            path == manifest || path.canonicalize().is_ok_and(|p| p == manifest)
        };
        let package = match metadata.packages.iter().find(|p| same(p)) {
            Some(package) => package,
            None => {
                // A virtual workspace manifest: the member with a Trek.toml, if exactly one.
                let with_trek: Vec<&Package> = metadata
                    .workspace_packages()
                    .into_iter()
                    .filter(|p| {
                        p.manifest_path
                            .parent()
                            .is_some_and(|dir| dir.join("Trek.toml").is_file())
                    })
                    .collect();
                match with_trek.as_slice() {
                    [one] => *one,
                    [] => {
                        return Err(Error::Project {
                            message: format!(
                                "{} is a workspace without a package of its own, and no member \
                                 has a Trek.toml; run cargo trek inside the package, or pass \
                                 --manifest-path",
                                manifest.display()
                            ),
                        })
                    }
                    many => {
                        return Err(Error::Project {
                            message: format!(
                                "{} is a workspace whose members {} all have a Trek.toml; run \
                                 cargo trek inside one of them, or pass --manifest-path",
                                manifest.display(),
                                many.iter()
                                    .map(|p| p.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        })
                    }
                }
            }
        };
        let manifest_path = package.manifest_path.clone().into_std_path_buf();
        let root = manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| cwd.to_path_buf());
        let build_script = package
            .targets
            .iter()
            .find(|t| t.kind.contains(&TargetKind::CustomBuild))
            .map(|t| t.src_path.clone().into_std_path_buf());
        let depends_on_trek = package
            .dependencies
            .iter()
            .any(|d| d.name == "trek-runtime" || d.rename.as_deref() == Some("trek"));
        Ok(Project {
            name: package.name.to_string(),
            manifest_path,
            root,
            target_dir,
            build_script,
            depends_on_trek,
        })
    }

    /// `path` relative to the package root when it is inside it, for messages.
    pub fn display_path(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

/// `cargo metadata --no-deps` for `manifest`.
fn metadata(manifest: &Path) -> Result<cargo_metadata::Metadata, Error> {
    MetadataCommand::new()
        .manifest_path(manifest)
        .no_deps()
        .exec()
        .map_err(|e| Error::Project {
            message: format!("`cargo metadata` failed for {}: {e}", manifest.display()),
        })
}

/// The package `manifest` describes, read from the file itself; `None` when it is not a
/// plain package manifest trek can read (a virtual workspace, a file that does not parse:
/// `cargo metadata` then decides, and explains any error).
fn read_package(manifest: &Path) -> Option<Project> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let toml: toml::Table = text.parse().ok()?;
    let package = toml.get("package")?.as_table()?;
    let name = package.get("name")?.as_str()?.to_owned();
    let root = manifest.parent()?.to_path_buf();
    let build_script = match package.get("build") {
        Some(toml::Value::String(path)) => Some(root.join(path)),
        Some(toml::Value::Boolean(false)) => None,
        Some(_) => return None,
        None => Some(root.join("build.rs")).filter(|p| p.is_file()),
    };
    Some(Project {
        name,
        manifest_path: manifest.to_path_buf(),
        root,
        target_dir: TargetDir::default(),
        build_script,
        depends_on_trek: depends_on_trek(&toml),
    })
}

/// Whether any dependency table of a manifest (normal, dev, build, per target) names
/// `trek-runtime`, directly or renamed (`trek = { package = "trek-runtime" }`).
fn depends_on_trek(toml: &toml::Table) -> bool {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let names_trek = |table: &toml::Table| {
        KINDS
            .iter()
            .filter_map(|kind| table.get(*kind)?.as_table())
            .flat_map(|deps| deps.iter())
            .any(|(name, spec)| {
                name == "trek-runtime"
                    || spec.get("package").and_then(toml::Value::as_str) == Some("trek-runtime")
            })
    };
    names_trek(toml)
        || toml
            .get("target")
            .and_then(toml::Value::as_table)
            .is_some_and(|targets| {
                targets
                    .values()
                    .filter_map(toml::Value::as_table)
                    .any(names_trek)
            })
}

fn find_manifest(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(files: &[(&str, &str)]) -> (PathBuf, Option<Project>) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "trek-project-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let project = read_package(&dir.join("Cargo.toml"));
        (dir, project)
    }

    #[test]
    fn a_package_manifest_is_read_without_cargo_metadata() {
        let (dir, project) = package(&[
            (
                "Cargo.toml",
                "[package]\nname = \"shop\"\nversion = \"0.1.0\"\n\n[dependencies]\ntrek-runtime = \"0.1\"\n",
            ),
            ("build.rs", "fn main() {}\n"),
        ]);
        let project = project.expect("read");
        assert_eq!(project.name, "shop");
        assert_eq!(project.root, dir);
        assert_eq!(project.build_script, Some(dir.join("build.rs")));
        assert!(project.depends_on_trek);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn build_scripts_and_trek_dependencies_are_found_in_every_form() {
        let cases = [
            ("[package]\nname = \"a\"\nbuild = \"tools/b.rs\"\n", Some("tools/b.rs"), false),
            ("[package]\nname = \"a\"\nbuild = false\n", None, false),
            ("[package]\nname = \"a\"\n[dependencies]\ntrek = { package = \"trek-runtime\", version = \"0.1\" }\n", None, true),
            ("[package]\nname = \"a\"\n[dev-dependencies]\ntrek-runtime.workspace = true\n", None, true),
            ("[package]\nname = \"a\"\n[target.'cfg(unix)'.dependencies]\ntrek-runtime = \"0.1\"\n", None, true),
            ("[package]\nname = \"a\"\n[dependencies]\ntrek-core = \"0.1\"\n", None, false),
        ];
        for (manifest, build, trek) in cases {
            let (dir, project) = package(&[("Cargo.toml", manifest)]);
            let project = project.unwrap_or_else(|| panic!("read: {manifest}"));
            assert_eq!(
                project.build_script,
                build.map(|b| dir.join(b)),
                "{manifest}"
            );
            assert_eq!(project.depends_on_trek, trek, "{manifest}");
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    #[test]
    fn a_virtual_workspace_or_a_broken_manifest_is_left_to_cargo_metadata() {
        for manifest in [
            "[workspace]\nmembers = [\"a\"]\n",
            "[package\nname = ",
            "[package]\n",
        ] {
            let (dir, project) = package(&[("Cargo.toml", manifest)]);
            assert!(project.is_none(), "{manifest}");
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
