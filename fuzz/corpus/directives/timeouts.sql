-- trek:lock_timeout 5s
-- trek:statement_timeout 10min
ALTER TABLE t ADD c int;
