// The add form's request headers as the host gets them (the non-blank lines) and as the form shows them back
// (lowercase names, values masked): a value never appears in what is shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerLines, maskedHeaders } from '../../renderer/src/store/header-lines';

test('header lines: blank lines dropped, CRLF pasted from elsewhere taken as line ends, values never in the masked form', () => {
  const text = 'Authorization: Bearer sekrit-1\r\n\r\n  \nX-Api-Key:k-2\nno colon here\n';
  assert.deepEqual(headerLines(text), ['Authorization: Bearer sekrit-1', 'X-Api-Key:k-2', 'no colon here']);
  const masked = maskedHeaders(text);
  assert.deepEqual(masked, ['authorization: ••••', 'x-api-key: ••••']);
  assert.ok(!masked.join().includes('sekrit') && !masked.join().includes('k-2'));
  assert.deepEqual(headerLines('\n \n'), []);
});
