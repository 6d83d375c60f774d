-- The queue-position pass (Lifecycle.movePositions) in a function of its own, so that it can plan without
-- nested loops. Planned as a plain statement, a queue that filled up since the table's statistics were last
-- taken (a burst after a quiet hour: the statistics say nothing is queued) got a nested loop that ranked the
-- whole queue again for every queued row: 27 ms a pass at 180 queued, 275 ms at 500, run ten times a second.
-- A hash join ranks once, whatever the statistics say.
CREATE OR REPLACE FUNCTION mj_move_positions(p_near_positions int, p_near_ms int, p_far_ms int) RETURNS SETOF tasks
LANGUAGE sql VOLATILE SET enable_nestloop = off AS $$
  WITH ranked AS (
    SELECT id AS ranked_id, row_number() OVER (ORDER BY created_at, id) AS place FROM tasks WHERE status = 'queued'
  )
  UPDATE tasks SET queue_position = ranked.place, position_shown_at = now()
    FROM ranked
   WHERE tasks.id = ranked.ranked_id
     -- Re-checked on the row itself: a job claimed or cancelled since the ranking is left alone.
     AND tasks.status = 'queued'
     AND tasks.queue_position IS DISTINCT FROM ranked.place
     AND (tasks.position_shown_at IS NULL OR tasks.position_shown_at
          < now() - (CASE WHEN ranked.place <= p_near_positions THEN p_near_ms ELSE p_far_ms END) * interval '1 millisecond')
     -- Only replies Discord still lets us edit (the interaction token lives 15 minutes).
     AND tasks.interaction_token IS NOT NULL AND tasks.token_expires_at > now()
  RETURNING tasks.*
$$;
