/**
 * A server that answers wrong credentials with "OK" and then garbage (wayvnc 0.5 / neatvnc over
 * TLS): an impossible ServerInit right after accepted credentials is reported as what it most
 * likely is, a silent rejection; after security None it stays a protocol error.
 */
import { expect, test } from '@playwright/test';

import { VNCAuthenticationError, VNCProtocolError } from '../../src/errors.js';
import { banner, challenge, concat, securityResult, securityTypes, serverInit, unhex } from '../support/rfb-bytes.js';
import { inEveryChunking } from '../support/security-run.js';
import { expectStartFailure } from '../support/start-outcome.js';

const CHALLENGE = challenge('00112233445566778899aabbccddeeff');
/** 24 bytes of noise, like what wayvnc sent after a wrong password (there the name length read 1716429979). */
const GARBAGE = unhex('17a3c2e10c9ef1b2' + '5d0046c1aa03b7e2' + '8f21c9d4664e8e9b');
const PASSWORD = 'secret-pw-12';

test('VNC Authentication accepted, then a 1.7-GB desktop name → VNCAuthenticationError explaining the silent rejection', async () => {
  await inEveryChunking(concat(banner('3.8'), securityTypes([2]), CHALLENGE, securityResult(0), GARBAGE), { password: PASSWORD }, (outcome) => {
    const error = expectStartFailure(
      outcome,
      [PASSWORD],
      VNCAuthenticationError,
      'EAUTH',
      'The server said it accepted the credentials (VNC Authentication (2)), then sent an impossible ServerInit',
      '1716424347 bytes, more than the 65536-byte limit',
      'rejected the credentials without saying so',
      'wayvnc (neatvnc 0.5)',
      'Check the password',
    );
    expect(error.cause).toBeInstanceOf(VNCProtocolError);
  });
});

test('an impossible pixel format or size after accepted credentials: the same explanation', async () => {
  const init = serverInit({ width: 8, height: 4, name: 'x' });
  const badBpp = new Uint8Array(init);
  badBpp[4] = 24;
  await inEveryChunking(concat(banner('3.8'), securityTypes([2]), CHALLENGE, securityResult(0), badBpp), { password: PASSWORD }, (outcome) =>
    expectStartFailure(outcome, [PASSWORD], VNCAuthenticationError, 'EAUTH', '24 bits per pixel', 'rejected the credentials without saying so'),
  );
  const huge = new Uint8Array(init);
  huge.set([0xff, 0xff], 0);
  await inEveryChunking(concat(banner('3.8'), securityTypes([2]), CHALLENGE, securityResult(0), huge), { password: PASSWORD }, (outcome) =>
    expectStartFailure(outcome, [PASSWORD], VNCAuthenticationError, 'EAUTH', '65535x4 desktop', 'rejected the credentials without saying so'),
  );
});

test('after security None the same bytes are a plain VNCProtocolError (no credentials to blame)', async () => {
  await inEveryChunking(concat(banner('3.8'), securityTypes([1]), securityResult(0), GARBAGE), {}, (outcome) =>
    expectStartFailure(outcome, [], VNCProtocolError, 'EPROTOCOL', "The server's desktop name is 1716424347 bytes"),
  );
});
