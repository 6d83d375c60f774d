-- Accepting jobs (src/tasks/accept.ts) in one statement. The statements run inside a PL/pgSQL function, so each
-- one takes its own snapshot after the one before it finished: the counts are read after the advisory locks are
-- held, which a single SQL statement cannot do (its snapshot would predate the lock wait).

-- The advisory locks of a batch, in one global order (namespace, then key) so that no two batches deadlock.
CREATE OR REPLACE FUNCTION mj_lock(p_locks json) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM count(pg_advisory_xact_lock(o.ns, o.k))
    FROM (SELECT DISTINCT l.ns, hashtext(l.v) AS k FROM json_to_recordset(p_locks) AS l(ns int, v text) ORDER BY 1, 2) AS o;
END $$;
--> statement-breakpoint
-- What the limits count: 'u' each (server, user)'s jobs today, 'q' each user's waiting jobs (every server),
-- 'g' each server's jobs today. Failed and cancelled jobs do not count; a job whose action is in p_video
-- counts p_video_weight toward the daily ones.
CREATE OR REPLACE FUNCTION mj_usage(p_pairs json, p_users json, p_guilds json, p_since timestamptz, p_video json, p_video_weight int)
RETURNS TABLE (kind text, guild_id text, user_id text, n int) LANGUAGE sql STABLE AS $$
  SELECT 'u', w.g, w.u, (SELECT coalesce(sum(CASE WHEN t.action IN (SELECT json_array_elements_text(p_video)) THEN p_video_weight ELSE 1 END), 0)
      FROM tasks t WHERE t.user_id = w.u AND t.guild_id IS NOT DISTINCT FROM w.g
        AND t.created_at >= p_since AND t.status NOT IN ('failed', 'cancelled'))::int
    FROM json_to_recordset(p_pairs) AS w(g text, u text)
  UNION ALL
  SELECT 'q', NULL, q.u, (SELECT count(*) FROM tasks t WHERE t.user_id = q.u AND t.status = 'queued')::int
    FROM json_array_elements_text(p_users) AS q(u)
  UNION ALL
  SELECT 'g', g.g, NULL, (SELECT coalesce(sum(CASE WHEN t.action IN (SELECT json_array_elements_text(p_video)) THEN p_video_weight ELSE 1 END), 0)
      FROM tasks t WHERE t.guild_id = g.g AND t.created_at >= p_since AND t.status NOT IN ('failed', 'cancelled'))::int
    FROM json_array_elements_text(p_guilds) AS g(g)
$$;
--> statement-breakpoint
-- Inserts rows given as JSON objects keyed by column name (the columns listed in p_columns; created_at is the
-- moment of the insert, so queue order is the order jobs were stored in). A row already there (an earlier try
-- whose commit was lost) is left as it is and not returned.
CREATE OR REPLACE FUNCTION mj_insert_tasks(p_columns json, p_rows json) RETURNS SETOF tasks LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_cols text;
BEGIN
  SELECT string_agg(quote_ident(c), ', ') INTO v_cols FROM json_array_elements_text(p_columns) AS c;
  RETURN QUERY EXECUTE format(
    'INSERT INTO tasks (%s, created_at) SELECT %s, clock_timestamp() FROM json_populate_recordset(NULL::tasks, $1) ON CONFLICT (id) DO NOTHING RETURNING *',
    v_cols, v_cols) USING p_rows;
END $$;
--> statement-breakpoint
-- The batch as its caller decided it from the counts it expects (p_expected: kind, guild_id, user_id, n as in
-- mj_usage). Under the locks, if any count is now above what the caller expected, its decisions may be wrong:
-- nothing is stored and SQLSTATE MJ409 is raised (the caller then decides again from exact counts). Counts at
-- or below expectations only leave more room, so every accepted job still fits its limits.
CREATE OR REPLACE FUNCTION mj_accept(p_locks json, p_expected json, p_since timestamptz, p_video json, p_video_weight int, p_columns json, p_rows json)
RETURNS SETOF tasks LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_moved int;
BEGIN
  PERFORM mj_lock(p_locks);
  WITH e AS (SELECT * FROM json_to_recordset(p_expected) AS e(kind text, guild_id text, user_id text, n int))
  SELECT count(*) INTO v_moved
    FROM mj_usage(
      (SELECT coalesce(json_agg(json_build_object('g', e.guild_id, 'u', e.user_id)), '[]') FROM e WHERE e.kind = 'u'),
      (SELECT coalesce(json_agg(e.user_id), '[]') FROM e WHERE e.kind = 'q'),
      (SELECT coalesce(json_agg(e.guild_id), '[]') FROM e WHERE e.kind = 'g'),
      p_since, p_video, p_video_weight) AS a
    JOIN e ON e.kind = a.kind AND e.guild_id IS NOT DISTINCT FROM a.guild_id AND e.user_id IS NOT DISTINCT FROM a.user_id
    WHERE a.n > e.n;
  IF v_moved > 0 THEN
    RAISE EXCEPTION 'job counts moved since they were read' USING ERRCODE = 'MJ409';
  END IF;
  RETURN QUERY SELECT * FROM mj_insert_tasks(p_columns, p_rows);
END $$;
