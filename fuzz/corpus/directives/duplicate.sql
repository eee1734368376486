/* trek:no_transaction */
-- trek:no_transaction
-- trek:no_transaction
