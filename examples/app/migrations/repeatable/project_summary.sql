-- Re-applied whenever this file changes.
CREATE OR REPLACE VIEW project_summary AS
SELECT a.id AS account_id,
       a.email,
       count(p.id) FILTER (WHERE p.state = 'active') AS active_projects,
       count(p.id) FILTER (WHERE p.state = 'archived') AS archived_projects
FROM accounts a
LEFT JOIN projects p ON p.account_id = a.id
GROUP BY a.id, a.email;
