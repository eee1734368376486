DROP TRIGGER projects_touch_updated_at ON projects;
DROP FUNCTION touch_updated_at();
