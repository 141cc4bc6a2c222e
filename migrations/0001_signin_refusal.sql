-- A sign-in the database refuses (the email belongs to another user, the
-- identity is linked to someone else, the user is disabled) fails its whole
-- batch with SQLSTATE GH001 and the reason as the message: the transaction
-- rolls back and nothing of the sign-in is written. See src/db/signin.ts.
CREATE OR REPLACE FUNCTION gatehouse_refuse(reason text) RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'GH001', MESSAGE = reason;
END
$$;
