// Package auth is Berth's access control: projects, local users, project roles,
// robot accounts, authorization, Docker registry tokens and login throttling. It
// keeps everything in the metadata store (kvnode) under the prefix "auth/"
// (docs/keyspace.md) and knows nothing of HTTP; the role matrix is in docs/roles.md.
//
// A gateway replica:
//  1. builds one Service with New and one Issuer with NewIssuer over the same Store,
//     passing the Service as the Issuer's Authorizer;
//  2. at start calls Service.EnsureDefaults (the public project "library") and
//     Service.Bootstrap (the user "admin"), and logs the path Bootstrap returns;
//  3. at the token endpoint parses the scope parameters with ParseScopes, turns
//     Basic credentials into a Principal with Service.Authenticate (or uses
//     Anonymous), and answers with the Token that Issuer.Issue returns;
//  4. on /v2/ verifies bearer tokens with Issuer.Verify and checks Claims.Allows
//     for the repository and action of the request; Basic credentials go through
//     Service.Authenticate and Service.Allowed instead;
//  5. maps the package's errors (ErrBadCredentials, ErrThrottled, ErrInvalidToken,
//     ...) to HTTP statuses in its error table, and logs credentials only through
//     the redacting types (Secret, Token, Principal).
//
// Repository names must have a project component: "nginx" alone is refused (see
// ProjectOf). Users, robots and members are read from the store on every decision,
// so deleting or disabling an account takes effect at once, except for tokens it
// already holds, which stay valid until they expire (five minutes by default).
package auth
