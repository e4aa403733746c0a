-- Closed executions by stop time, for the retention sweeper.
CREATE INDEX executions_by_stop ON executions (stop_ms) WHERE stop_ms IS NOT NULL;
