/* a /* nested ; */ comment */ SELECT 1; -- trailing ; comment
SELECT 2
