-- trek:run always
GRANT SELECT ON t TO r;
