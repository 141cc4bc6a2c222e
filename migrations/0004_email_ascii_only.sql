-- Email matching no longer folds Unicode into ASCII (src/lib/email.ts): an
-- address with any non-ASCII character matches nobody. Rows normalized by
-- the old NFKC rule (full-width letters, the Kelvin sign, ligatures folded
-- into ASCII) would still match, or hold the verified-address unique index
-- against, the real owner of the ASCII address: unmatch them.
UPDATE "users" SET "email_normalized" = NULL
WHERE "email_normalized" IS NOT NULL
  AND ("email" IS NULL OR btrim("email") !~ '^[!-~]+$' OR lower(btrim("email")) <> "email_normalized");
