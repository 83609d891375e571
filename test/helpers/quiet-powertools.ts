/**
 * Imported first by tests that import the use cases or adapters themselves: Powertools reads these when its
 * modules load, before any stack could configure it, so its metrics stay off and only critical lines are logged.
 */
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'CRITICAL';
