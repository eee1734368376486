;;;
;  -- only
;