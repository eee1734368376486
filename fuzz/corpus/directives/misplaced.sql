SELECT 1;
-- trek:no_transaction
