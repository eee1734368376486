//! The Cargo package trek works on, found once with `cargo metadata`.

use std::path::{Path, PathBuf};

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
    /// Cargo's target directory (`metadata.target_directory`).
    pub target_dir: PathBuf,
    /// The build script Cargo runs for the package, when it has one.
    pub build_script: Option<PathBuf>,
    /// Whether the package depends on `trek-runtime` (to embed its migrations).
    pub depends_on_trek: bool,
}

impl Project {
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
        let metadata = MetadataCommand::new()
            .manifest_path(&manifest)
            .no_deps()
            .exec()
            .map_err(|e| Error::Project {
                message: format!("`cargo metadata` failed for {}: {e}", manifest.display()),
            })?;
        let target_dir = metadata.target_directory.clone().into_std_path_buf();
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

fn find_manifest(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|path| path.is_file())
}
