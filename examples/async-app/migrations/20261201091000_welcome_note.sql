-- Data every environment needs (prod included), so a migration rather than a seed.
INSERT INTO notes (title) VALUES ('welcome to trek');
