//! The naming rules of migration files: `VERSION_description.sql`, `.up.sql`, `.down.sql`.
//! TODO(core helper)
