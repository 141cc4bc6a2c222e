/**
 * Shared setup of the org token tests: an organization with Facebook Pages
 * connected the way the connect callback's batch connects them (real
 * statement builders, real sealing), and page ids by external id.
 */
import { databaseFor } from "../../src/db/client";
import { syncPagesStatements, type ProviderPageInput } from "../../src/db/pages";
import { replacePageTokenStatements, replaceUserTokenStatements } from "../../src/db/provider-tokens";
import { rawSql } from "../helpers/neon-local";
import { accessTokenFor, createAccount, createOrgAs, createVerifiedUser, sealPageToken, sealUserToken, unique } from "../helpers/orgs";
import { testConfig } from "../helpers/sessions";

const db = () => databaseFor(testConfig());

/** An org with an owner who has a Facebook account, and `n` pages connected with tokens in ONE batch. */
export async function connectedOrg(n: number) {
  const owner = await createVerifiedUser("owner");
  const token = await accessTokenFor(owner.id);
  const org = await createOrgAs(token, "Pages Inc");
  const account = await createAccount(owner.id);
  const pages: ProviderPageInput[] = Array.from({ length: n }, (_, i) => ({
    externalId: `page-${unique()}`,
    name: `Page ${i}`,
    category: i % 2 === 0 ? "Brand" : null,
    tasks: ["MODERATE", "CREATE_CONTENT"],
  }));
  await connect(org.id, owner.id, account, pages, "user-token-1");
  return { owner, token, org, account, pages };
}

/** What the Facebook callback does: pages, the user token and every page token in one batch. */
export async function connect(orgId: string, userId: string, account: { id: string; subject: string }, pages: ProviderPageInput[], userAccessToken: string) {
  const owner = { orgId, userId, accountId: account.id, provider: "facebook" };
  const pageTokens = await Promise.all(pages.map((p) => sealPageToken(orgId, userId, p.externalId, `page-token-${p.externalId}`)));
  const database = await db();
  await database.batch([
    ...syncPagesStatements(database, { orgId, userId, provider: "facebook", pages }),
    ...replaceUserTokenStatements(database, { ...owner, token: await sealUserToken({ orgId, userId }, account.subject, userAccessToken) }),
    ...pages.flatMap((p, i) => replacePageTokenStatements(database, { ...owner, externalPageId: p.externalId, token: pageTokens[i]! })),
  ]);
}

/** The `provider_pages` id of an external page id in an org. */
export const pageIdOf = async (orgId: string, externalId: string) =>
  (await rawSql<{ id: string }>("SELECT id FROM provider_pages WHERE org_id = $1 AND external_page_id = $2", [orgId, externalId]))[0]!.id;
