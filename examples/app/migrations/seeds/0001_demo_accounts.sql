-- Demo data for dev and qa databases; never applied by the prod workflow.
INSERT INTO accounts (email, display_name) VALUES
    ('ada@example.com', 'Ada'),
    ('grace@example.com', 'Grace');
