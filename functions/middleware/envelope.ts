import type { APIGatewayProxyResult } from 'aws-lambda';

/** CRM.COM's response envelope, for success and error alike. */
export type Envelope<T> = { status: { code: string; message: string; description: string }; data: T };

/** Every response carries tokens or subscriber data, or says something about them: none may be cached (SPEC §2). */
export const RESPONSE_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };

export const jsonResponse = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult => ({
  statusCode,
  headers: { ...RESPONSE_HEADERS, ...headers },
  body: JSON.stringify(body),
});

export const ok = <T>(data: T): APIGatewayProxyResult =>
  jsonResponse(200, { status: { code: 'OK', message: '', description: '' }, data } satisfies Envelope<T>);

export const failure = (
  statusCode: number,
  code: string,
  message: string,
  description: string,
  headers?: Record<string, string>,
): APIGatewayProxyResult =>
  jsonResponse(statusCode, { status: { code, message, description }, data: null } satisfies Envelope<null>, headers);
