//! Where validation settings come from, weakest first: fgd's defaults, the operator's config
//! (`[validation]` in `config.toml`), the fabric's own `.hnp/validation.toml` (committed with
//! the fabric, so everyone who works on it validates alike), and the command line.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Level, Settings, SetupError};

/// The `[validation]` section of the config, and the whole of `.hnp/validation.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SettingsFile {
    /// `envelope`, `schema` or `all`.
    pub rules: Option<Level>,
    /// Rule ids not to run.
    #[serde(default)]
    pub skip_rules: Vec<String>,
    /// `error` (default) or `warning`.
    pub unknown_fields: Option<UnknownFields>,
    /// The directory holds the whole fabric (wiring and namespaces included).
    pub whole_fabric: Option<bool>,
    /// Another release's CRDs (a folder); relative to the file's folder.
    pub crds: Option<PathBuf>,
    /// The fabric's fab.yaml; relative to the file's folder.
    pub fab: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownFields {
    Error,
    Warning,
}

/// The settings a command brings (the operator's config section and its flags); the fabric's
/// own file is laid between them when the command runs on a fabric (`for_fabric`). The
/// default (no config, no flags) is the fabric's file over fgd's defaults, what the dashboard
/// and `sync`'s ingest use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layers {
    pub config: Option<SettingsFile>,
    pub flags: SettingsFile,
}

impl Layers {
    pub fn for_fabric(&self, root: &Path) -> Result<Settings, SetupError> {
        Settings::layered(self.config.as_ref(), Some(root), &self.flags)
    }
}

/// The fabric's own settings file, relative to the fabric directory.
pub const FABRIC_SETTINGS: &str = ".hnp/validation.toml";

impl SettingsFile {
    /// Parse `text` (from `file`), with TOML's own line and column on an error.
    pub fn parse(text: &str, file: &Path) -> Result<SettingsFile, SetupError> {
        toml::from_str(text).map_err(|e| SetupError::Settings {
            path: file.display().to_string(),
            message: e.to_string(),
        })
    }

    /// `.hnp/validation.toml` of the fabric at `root`, when it has one.
    pub fn of_fabric(root: &Path) -> Result<Option<SettingsFile>, SetupError> {
        let path = root.join(FABRIC_SETTINGS);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path).map(|f| Some(f.relative_to(root))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SetupError::Settings {
                path: path.display().to_string(),
                message: format!("cannot read: {e}"),
            }),
        }
    }

    /// Paths in the file are relative to `dir`.
    pub fn relative_to(mut self, dir: &Path) -> SettingsFile {
        self.crds = self.crds.map(|p| dir.join(p));
        self.fab = self.fab.map(|p| dir.join(p));
        self
    }
}

impl Settings {
    /// The settings of a run, weakest first: the operator's config section, the fabric's own
    /// file (when `fabric` is a fabric directory), then the command line's flags.
    pub fn layered(
        config: Option<&SettingsFile>,
        fabric: Option<&Path>,
        flags: &SettingsFile,
    ) -> Result<Settings, SetupError> {
        let mut s = Settings::default();
        if let Some(c) = config {
            s.apply(c)?;
        }
        if let Some(root) = fabric {
            if let Some(f) = SettingsFile::of_fabric(root)? {
                s.apply(&f)?;
            }
        }
        s.apply(flags)?;
        Ok(s)
    }

    /// Lay `file` over these settings: what it sets wins.
    pub fn apply(&mut self, file: &SettingsFile) -> Result<(), SetupError> {
        if let Some(level) = file.rules {
            self.level = level;
        }
        for id in &file.skip_rules {
            self.skip_rule(id)?;
        }
        if let Some(u) = file.unknown_fields {
            self.unknown_fields_warn = u == UnknownFields::Warning;
        }
        if let Some(w) = file.whole_fabric {
            self.whole_fabric = w;
        }
        if file.crds.is_some() {
            self.crds.clone_from(&file.crds);
        }
        if file.fab.is_some() {
            self.fab.clone_from(&file.fab);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fabric_file_sets_what_it_names_and_refuses_what_it_does_not_know() {
        let f = SettingsFile::parse(
            "rules = \"schema\"\nskip-rules = [\"vpca-07\"]\nwhole-fabric = true\nfab = \"../fab.yaml\"\n",
            Path::new("v.toml"),
        )
        .unwrap()
        .relative_to(Path::new("/fab"));
        let mut s = Settings::default();
        s.apply(&f).unwrap();
        assert_eq!(s.level, Level::Schema);
        assert!(s.whole_fabric);
        assert_eq!(s.fab, Some(PathBuf::from("/fab/../fab.yaml")));
        assert_eq!(s.skip.iter().map(|r| r.0).collect::<Vec<_>>(), ["VPCA-07"]);
        let e = SettingsFile::parse("whole_fabric = true\n", Path::new("v.toml")).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        let bad = SettingsFile::parse("skip-rules = [\"NOPE-1\"]\n", Path::new("v.toml")).unwrap();
        assert!(Settings::default().apply(&bad).is_err());
    }
}
