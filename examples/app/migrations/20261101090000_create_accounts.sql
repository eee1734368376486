-- Accounts own projects. Emails are unique case-insensitively.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       citext NOT NULL UNIQUE,
    display_name text NOT NULL CHECK (display_name <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE accounts IS 'People who sign in; one row per email address.';
