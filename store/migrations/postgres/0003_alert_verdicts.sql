-- Verdicts from the field: acknowledging an alert says whether it was
-- right (confirmed) or a false alarm, and why (verdict_reason). And a new
-- kind, camera_blocked: the camera streams but shows nothing analysis can
-- use.
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('unstaffed', 'camera_offline', 'camera_blocked'));
ALTER TABLE alerts ADD COLUMN verdict TEXT NOT NULL DEFAULT '' CHECK (verdict IN ('', 'confirmed', 'false_alarm'));
ALTER TABLE alerts ADD COLUMN verdict_reason TEXT NOT NULL DEFAULT '' CHECK (verdict_reason IN ('', 'clerk_present', 'view_blocked', 'zone_wrong', 'other'));
