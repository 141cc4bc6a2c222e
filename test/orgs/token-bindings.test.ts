/**
 * What keeps a stored provider token from flowing where it should not: a
 * departed or disabled connector's tokens stop (read joins, soft-deleted on
 * removal and leaving, audited), and a ciphertext is bound to its token
 * type, organization and user (AAD version 2; older rows still open).
 */
import { describe, expect, it } from "vitest";
import { seal } from "../../src/lib/crypto";
import { toHex } from "../../src/lib/hex";
import { providerTokenPlaintext } from "../../src/orgs/provider-token-secret";
import { call } from "../helpers/app";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { testConfig } from "../helpers/sessions";
import { accessTokenFor, addMembership, api, auditRows, basic, countRows, createAccount, createOrgAs, createVerifiedUser, serviceEnv, unique } from "../helpers/orgs";
import { connect, connectedOrg, pageIdOf } from "./pages-helpers";

describe("tokens of a connector who left, was removed or is disabled", () => {
  it("stops serving the tokens of an admin who was removed, left or is disabled; removal and leaving soft-delete them, audited, in one round trip", async () => {
    for (const how of ["remove", "leave", "disable"] as const) {
      // An admin connected the Pages; the owner stays.
      const owner = await createVerifiedUser("owner");
      const ownerToken = await accessTokenFor(owner.id);
      const org = await createOrgAs(ownerToken, "Pages Inc");
      const admin = await createVerifiedUser("admin");
      await addMembership(org.id, admin.id, "admin");
      const account = await createAccount(admin.id);
      const page = { externalId: `page-${unique()}`, name: "Page", category: null, tasks: ["MODERATE"] };
      await connect(org.id, admin.id, account, [page], "admin-user-token");
      const pageId = await pageIdOf(org.id, page.externalId);
      const e = await serviceEnv(`svc-gone-${how}`, [{ id: "billing", orgs: [org.slug] }]);
      const read = () => call(`/api/orgs/${org.slug}/pages/${pageId}/token`, { method: "POST", headers: { authorization: basic("billing") } }, { env: e });
      expect((await read()).status).toBe(200);

      await resetStats(`members-${how}`);
      if (how === "remove") {
        const res = await api(ownerToken, "DELETE", `/api/orgs/${org.slug}/members/${admin.id}`, undefined, { scope: `members-${how}` });
        expect(res.status).toBe(200);
      } else if (how === "leave") {
        const res = await api(await accessTokenFor(admin.id), "POST", `/api/orgs/${org.slug}/leave`, undefined, { scope: `members-${how}` });
        expect(res.status).toBe(200);
      } else {
        await rawSql("UPDATE users SET disabled_at = now() WHERE id = $1", [admin.id]);
      }
      if (how !== "disable") {
        expect((await stats(`members-${how}`)).requests).toBe(1);
        expect(await countRows("provider_tokens", "org_id = $1 AND user_id = $2 AND deleted_at IS NULL", [org.id, admin.id])).toBe(0);
        const audit = (await auditRows(org.id)).filter((a) => a.action === (how === "remove" ? "member.remove" : "member.leave"));
        expect(audit).toEqual([expect.objectContaining({ target_id: admin.id, metadata: { role: "admin", revokedTokens: 2 } })]);
      }
      const res = await read();
      expect(res.status, how).toBe(404);
      expect(await res.text()).not.toContain("page-token-");
    }
  });
});

describe("what a stored ciphertext is bound to (AAD version 2)", () => {
  const read = (e: Env, path: string) => call(path, { method: "POST", headers: { authorization: basic("crm") } }, { env: e });

  async function expectUnreadable(res: Response, secret: string): Promise<void> {
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).toContain("Internal");
    expect(body).not.toContain(secret);
  }

  it("does not open a user token whose ciphertext was copied from another organization of the same user and identity", async () => {
    const { org, owner, account, token } = await connectedOrg(0);
    const other = await createOrgAs(token, "Other Inc");
    await connect(other.id, owner.id, account, [], "user-token-other");
    const e = await serviceEnv("svc-aad-user", [{ id: "crm", orgs: [other.slug] }]);
    const path = `/api/orgs/${other.slug}/members/${owner.id}/provider-tokens/facebook`;
    expect(await (await read(e, path)).json()).toMatchObject({ accessToken: "user-token-other" });
    await rawSql(
      `UPDATE provider_tokens SET ciphertext = (SELECT ciphertext FROM provider_tokens WHERE org_id = $1 AND token_type = 'user' AND deleted_at IS NULL)
       WHERE org_id = $2 AND token_type = 'user' AND deleted_at IS NULL`,
      [org.id, other.id],
    );
    await expectUnreadable(await read(e, path), "user-token-1");
  });

  it("does not open a page token whose row was moved to another member", async () => {
    const { org, pages } = await connectedOrg(1);
    const admin = await createVerifiedUser("admin");
    await addMembership(org.id, admin.id, "admin");
    const pageId = await pageIdOf(org.id, pages[0]!.externalId);
    const e = await serviceEnv("svc-aad-page", [{ id: "crm", orgs: [org.slug] }]);
    const path = `/api/orgs/${org.slug}/pages/${pageId}/token`;
    expect((await read(e, path)).status).toBe(200);
    await rawSql("UPDATE provider_tokens SET user_id = $2 WHERE page_id = $1", [pageId, admin.id]);
    await expectUnreadable(await read(e, path), `page-token-${pages[0]!.externalId}`);
  });

  it("still opens rows sealed before version 2 (aad_version NULL), and the next write replaces them with version 2", async () => {
    const { org, owner, account, pages } = await connectedOrg(1);
    const pageId = await pageIdOf(org.id, pages[0]!.externalId);
    const keys = testConfig().encryptionKeys;
    const legacyUser = await seal(keys, providerTokenPlaintext({ accessToken: "legacy-user" }), `gatehouse:provider_token:user:facebook:${account.subject}`);
    const legacyPage = await seal(keys, providerTokenPlaintext({ accessToken: "legacy-page" }), `gatehouse:provider_token:page:${org.id}:facebook:${pages[0]!.externalId}`);
    await rawSql("UPDATE provider_tokens SET ciphertext = $2, key_version = $3, aad_version = NULL WHERE org_id = $1 AND token_type = 'user'", [org.id, `\\x${toHex(legacyUser.ciphertext)}`, legacyUser.keyVersion]);
    await rawSql("UPDATE provider_tokens SET ciphertext = $2, key_version = $3, aad_version = NULL WHERE page_id = $1", [pageId, `\\x${toHex(legacyPage.ciphertext)}`, legacyPage.keyVersion]);
    const e = await serviceEnv("svc-aad-legacy", [{ id: "crm", orgs: [org.slug] }]);
    expect(await (await read(e, `/api/orgs/${org.slug}/members/${owner.id}/provider-tokens/facebook`)).json()).toMatchObject({ accessToken: "legacy-user" });
    expect(await (await read(e, `/api/orgs/${org.slug}/pages/${pageId}/token`)).json()).toMatchObject({ accessToken: "legacy-page" });

    await connect(org.id, owner.id, account, pages, "user-token-2");
    expect(await countRows("provider_tokens", "org_id = $1 AND deleted_at IS NULL AND aad_version = 2", [org.id])).toBe(2);
    expect(await (await read(e, `/api/orgs/${org.slug}/members/${owner.id}/provider-tokens/facebook`)).json()).toMatchObject({ accessToken: "user-token-2" });
  });
});
