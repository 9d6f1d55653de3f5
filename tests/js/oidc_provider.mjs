// A real OpenID Connect provider (npm's oidc-provider, a certified implementation) for the SSO
// tests, on loopback only: `node oidc_provider.mjs '<json>'` with {"port": N, "clients": [...]}
// (each client as oidc-provider takes it: client_id, client_secret, redirect_uris). Its built-in
// development login page accepts any login with any password; the login is the account: its
// subject, and its e-mail address (verified) when it has an "@". Prints "listening <issuer>"
// once it accepts connections; SIGTERM stops it.
import Provider from "oidc-provider";

const config = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    grant_types: ["authorization_code"],
    response_types: ["code"],
    ...client,
  })),
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        const claims = { sub: id, name: `Test ${id}`, preferred_username: id.split("@")[0] };
        if (id.includes("@")) Object.assign(claims, { email: id, email_verified: true });
        return claims;
      },
    };
  },
  cookies: { keys: ["sso-tests-only"] },
  features: { devInteractions: { enabled: true } },
});
provider.on("server_error", (ctx, error) => console.error("server_error", error));
// A refused code exchange (a wrong client secret: invalid_client) is logged for the tests to see.
provider.on("grant.error", (ctx, error) => console.log(`grant.error ${error.error}`));

const server = provider.listen(config.port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
