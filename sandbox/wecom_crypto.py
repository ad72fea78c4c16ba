"""WeCom's callback encryption, written from the protocol description (platforms.md §3.5).

Deliberately independent of wechatpy: the sandbox plays the WeCom server, so interop tests between this
and wechatpy's WeChatCrypto check both sides rather than one implementation against itself.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from xml.etree import ElementTree

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16


class WeComCryptoError(ValueError):
    pass


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, str(timestamp), str(nonce), encrypt])).encode()).hexdigest()


class WeComCipher:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        key = base64.b64decode(encoding_aes_key + "=")
        if len(key) != 32:
            raise WeComCryptoError("EncodingAESKey must decode to 32 bytes")
        self.token = token
        self.key = key
        self.receive_id = receive_id

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, plaintext: str, *, random16: bytes | None = None) -> str:
        body = plaintext.encode()
        raw = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        pad = _BLOCK - len(raw) % _BLOCK
        raw += bytes([pad]) * pad
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(raw) + enc.finalize()).decode()

    def decrypt(self, encrypted: str) -> tuple[str, str]:
        """(plaintext, receive id) of a base64 ciphertext; raises WeComCryptoError when it is malformed."""
        try:
            data = base64.b64decode(encrypted)
            dec = self._cipher().decryptor()
            raw = dec.update(data) + dec.finalize()
        except Exception as exc:
            raise WeComCryptoError(f"cannot decrypt: {exc}") from exc
        pad = raw[-1] if raw else 0
        if not 1 <= pad <= _BLOCK:
            raise WeComCryptoError("bad padding")
        raw = raw[:-pad]
        if len(raw) < 20:
            raise WeComCryptoError("ciphertext too short")
        (length,) = struct.unpack(">I", raw[16:20])
        msg = raw[20 : 20 + length]
        receive_id = raw[20 + length :]
        try:
            return msg.decode(), receive_id.decode()
        except UnicodeDecodeError as exc:
            raise WeComCryptoError("plaintext is not UTF-8") from exc

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return signature(self.token, timestamp, nonce, encrypt)

    def envelope(self, plaintext_xml: str, *, timestamp: str, nonce: str, agent_id: str) -> tuple[str, str]:
        """(POST body, msg_signature) of a callback the way WeCom pushes it to the app."""
        encrypted = self.encrypt(plaintext_xml)
        body = (
            f"<xml><ToUserName><![CDATA[{self.receive_id}]]></ToUserName>"
            f"<AgentID><![CDATA[{agent_id}]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        return body, self.sign(timestamp, nonce, encrypted)

    def open_reply(self, reply_xml: str) -> str:
        """Verify and decrypt an app's passive reply (<Encrypt/MsgSignature/TimeStamp/Nonce>)."""
        try:
            root = ElementTree.fromstring(reply_xml)
        except ElementTree.ParseError as exc:
            raise WeComCryptoError(f"reply is not XML: {exc}") from exc
        fields = {child.tag: (child.text or "") for child in root}
        missing = [k for k in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce") if not fields.get(k)]
        if missing:
            raise WeComCryptoError(f"reply lacks {', '.join(missing)}")
        if self.sign(fields["TimeStamp"], fields["Nonce"], fields["Encrypt"]) != fields["MsgSignature"]:
            raise WeComCryptoError("reply signature does not match")
        plaintext, receive_id = self.decrypt(fields["Encrypt"])
        if receive_id != self.receive_id:
            raise WeComCryptoError(f"reply was encrypted for {receive_id!r}, not {self.receive_id!r}")
        return plaintext


def xml_fields(xml: str) -> dict:
    """Flat {tag: text} of an XML message, nested elements as dicts (enough for WeCom's messages)."""

    def walk(node):
        children = list(node)
        if not children:
            return node.text or ""
        out: dict = {}
        for child in children:
            value = walk(child)
            if child.tag in out:
                prev = out[child.tag]
                out[child.tag] = prev + [value] if isinstance(prev, list) else [prev, value]
            else:
                out[child.tag] = value
        return out

    root = ElementTree.fromstring(xml)
    result = walk(root)
    return result if isinstance(result, dict) else {}


def cdata(value: object) -> str:
    text = str(value).replace("]]>", "]]]]><![CDATA[>")
    return f"<![CDATA[{text}]]>"
