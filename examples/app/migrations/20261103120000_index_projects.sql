-- trek:no_transaction
-- trek:lock_timeout 5s
-- Built without blocking writes; CONCURRENTLY cannot run inside a transaction,
-- so trek sends these statements one at a time.
CREATE INDEX CONCURRENTLY IF NOT EXISTS projects_by_state ON projects (state);
CREATE INDEX CONCURRENTLY IF NOT EXISTS projects_by_created_at ON projects (created_at DESC);
