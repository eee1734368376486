-- trek:unknown
SELECT 1;
