DROP TABLE projects;
DROP TYPE project_state;
