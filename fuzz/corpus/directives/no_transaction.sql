-- trek:no_transaction
CREATE INDEX CONCURRENTLY i ON t (c);
