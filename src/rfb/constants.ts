/** Protocol numbers from RFC 6143 and the community RFB specification (rfbproto). */

export const ClientMessage = {
  SetPixelFormat: 0,
  SetEncodings: 2,
  FramebufferUpdateRequest: 3,
  KeyEvent: 4,
  PointerEvent: 5,
  ClientCutText: 6,
  /** rfbproto "EnableContinuousUpdates": only once the server sent EndOfContinuousUpdates. */
  EnableContinuousUpdates: 150,
  /** rfbproto "ClientFence": here only the answer to a server's fence request. */
  ClientFence: 248,
  /** rfbproto "SetDesktopSize": only once the server sent an ExtendedDesktopSize rectangle. */
  SetDesktopSize: 251,
  /** rfbproto "QEMU Client Message"; sub-type 0 is the Extended Key Event. Only once the server confirmed the pseudo-encoding. */
  QEMU: 255,
} as const;

/** Sub-types of the QEMU client message (rfbproto). */
export const QEMUClientMessage = { ExtendedKeyEvent: 0 } as const;

export const ServerMessage = {
  FramebufferUpdate: 0,
  SetColourMapEntries: 1,
  Bell: 2,
  ServerCutText: 3,
  /** rfbproto "EndOfContinuousUpdates": the server supports them (first time) or stopped them. Only with ContinuousUpdates advertised. */
  EndOfContinuousUpdates: 150,
  /** rfbproto "ServerFence". Only with Fence advertised. */
  ServerFence: 248,
} as const;

export const SecurityType = {
  Invalid: 0,
  None: 1,
  VncAuthentication: 2,
  /** TigerVNC / RealVNC RSA-AES: AES-128, the whole session encrypted (not supported) or only the handshake. */
  RA2: 5,
  RA2ne: 6,
  Tight: 16,
  Ultra: 17,
  TLS: 18,
  VeNCrypt: 19,
  SASL: 20,
  MD5: 21,
  XVP: 22,
  /** Apple Remote Desktop / rfbproto "Diffie-Hellman Authentication" (macOS Screen Sharing). */
  AppleRemoteDesktop: 30,
  /** UltraVNC's MS-Logon II (Windows accounts). */
  MSLogonII: 113,
  /** TigerVNC RSA-AES with AES-256 (whole session), and its variant encrypting only the handshake. */
  RA256: 129,
  RAne256: 130,
} as const;

const SECURITY_TYPE_NAMES: Record<number, string> = {
  0: 'Invalid',
  1: 'None',
  2: 'VNC Authentication',
  5: 'RA2',
  6: 'RA2ne',
  16: 'Tight',
  17: 'Ultra',
  18: 'TLS',
  19: 'VeNCrypt',
  20: 'SASL',
  21: 'MD5 hash',
  22: 'xvp',
  30: 'Apple Remote Desktop (Diffie-Hellman)',
  113: 'MSLogonII',
  129: 'RA256',
  130: 'RAne256',
};

export function securityTypeName(type: number): string {
  const name = SECURITY_TYPE_NAMES[type];
  return name ? `${name} (${type})` : `unknown type ${type}`;
}

/**
 * VeNCrypt sub-types (rfbproto, "VeNCrypt"): the security run inside security type 19. TLS* wrap it
 * in anonymous TLS (encrypted, the server not authenticated), X509* in TLS with a certificate the
 * client verifies; 1, 2 and 256 use no TLS at all.
 */
export const VeNCryptSubtype = {
  None: 1,
  VncAuth: 2,
  Plain: 256,
  TLSNone: 257,
  TLSVnc: 258,
  TLSPlain: 259,
  X509None: 260,
  X509Vnc: 261,
  X509Plain: 262,
} as const;

const VENCRYPT_SUBTYPE_NAMES: Record<number, string> = {
  ...Object.fromEntries(Object.entries(VeNCryptSubtype).map(([name, value]) => [value, name])),
  // Defined by rfbproto, not implemented by this client.
  263: 'TLSSASL',
  264: 'X509SASL',
};

/** "X509Vnc (261)", or "unknown sub-type N". */
export function vencryptSubtypeName(subtype: number): string {
  const name = VENCRYPT_SUBTYPE_NAMES[subtype];
  return name ? `${name} (${subtype})` : `unknown sub-type ${subtype}`;
}

export const Encoding = {
  Raw: 0,
  CopyRect: 1,
  RRE: 2,
  Hextile: 5,
  Zlib: 6,
  Tight: 7,
  ZRLE: 16,
  /** Tight with PNG in place of basic compression. */
  TightPNG: -260,
  /** Pseudo-encodings. */
  /** JPEG quality level 0 (lowest); level q is QualityLevel0 + q, up to −23 for 9 (Tight). */
  QualityLevel0: -32,
  /** zlib compression level 0 (fastest); level n is CompressionLevel0 + n, up to −247 for 9. */
  CompressionLevel0: -256,
  DesktopSize: -223,
  LastRect: -224,
  Cursor: -239,
  ExtendedDesktopSize: -308,
  /** The server may send its desktop name again when it changes (rfbproto "DesktopName"). */
  DesktopName: -307,
  /** The client answers Fence messages (rfbproto "Fence"); TigerVNC needs it for continuous updates. */
  Fence: -312,
  /** The client can take continuous updates (rfbproto "ContinuousUpdates"). */
  ContinuousUpdates: -313,
  /** rfbproto "QEMU Extended Key Event": the client may send key events with an XT scancode; confirmed by an empty rectangle. */
  QEMUExtendedKeyEvent: -258,
  /** rfbproto "QEMU LED State": one byte, bit 0 Scroll Lock, bit 1 Num Lock, bit 2 Caps Lock. */
  LEDState: -261,
  /** 0xC0A1E5CE as a signed 32-bit number. */
  ExtendedClipboard: -1063131698,
} as const;

/** Protocol versions this client speaks; anything newer is spoken as 3.8. */
export type ProtocolVersion = '3.3' | '3.7' | '3.8';

/** Limits on what a server may make us allocate (see README, "Limits"). */
export const Limits = {
  /** Largest framebuffer side accepted from ServerInit or a desktop size change. */
  maxFramebufferSide: 16384,
  /** Largest desktop name (ServerInit); longer ones are a protocol error. */
  maxDesktopNameBytes: 64 * 1024,
  /** Largest failure reason string. */
  maxReasonBytes: 64 * 1024,
  /** Largest clipboard text accepted from the server (ServerCutText). */
  maxCutTextBytes: 16 * 1024 * 1024,
  /** Largest cursor image side (Cursor pseudo-encoding). */
  maxCursorSide: 256,
  /** Largest Fence payload (rfbproto: at most 64 bytes); longer is a protocol error. */
  maxFencePayloadBytes: 64,
} as const;
