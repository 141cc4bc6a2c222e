CREATE TABLE "email_code_attempts" (
	"challenge_hash" text PRIMARY KEY NOT NULL,
	"attempts" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "email_code_attempts_hash_hex" CHECK ("email_code_attempts"."challenge_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "email_code_attempts_positive" CHECK ("email_code_attempts"."attempts" > 0)
);
--> statement-breakpoint
CREATE INDEX "email_code_attempts_created_at_idx" ON "email_code_attempts" USING btree ("created_at");