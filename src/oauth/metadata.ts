// The two discovery documents an MCP client reads before it signs in: the protected resource's
// (RFC 9728, pointed at by /mcp's WWW-Authenticate) and the authorization server's (RFC 8414).
import { mcpResource } from '../domain/oauth';

/** Returns the RFC 9728 metadata of the /mcp resource. */
export function protectedResourceMetadata(origin: string) {
  return {
    resource: mcpResource(origin),
    authorization_servers: [origin],
    bearer_methods_supported: ['header'],
    resource_name: 'Latchkey MCP endpoint',
  };
}

/** Returns the RFC 8414 metadata of this authorization server (the issuer is the origin itself). */
export function authorizationServerMetadata(origin: string) {
  return {
    issuer: origin,
    authorization_endpoint: `${origin}/oauth/authorize`,
    token_endpoint: `${origin}/oauth/token`,
    registration_endpoint: `${origin}/oauth/register`,
    revocation_endpoint: `${origin}/oauth/revoke`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
  };
}
