SELECT 1 /* unterminated ; comment
