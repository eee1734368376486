-- trek:lock_timeout
SELECT 1;
