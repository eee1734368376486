SELECT 'it''s;'; SELECT E'a\';b'; SELECT "we;ird" FROM t;
