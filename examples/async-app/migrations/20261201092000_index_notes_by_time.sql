-- trek:no_transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS notes_by_time ON notes (created_at);
