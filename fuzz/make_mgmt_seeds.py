#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpora of the management plane's fuzz targets.

  fuzz/corpus/definition/  definition_fuzz.c: the content of one definition file (or of a
                           --jsonfile), as is. Seeds: the definition files of the umdevctl
                           golden tests (tests/cli/golden/def-*, the files without a '$'
                           transcript), and hand-made files that cover the JSON grammar,
                           its limits, and mdevctl's definition rules.
  fuzz/corpus/ctl/         ctl_fuzz.c: one client session of the control socket, as records
                           [u16 len, little endian][len bytes], each one send(). Seeds: the
                           requests of docs/control-protocol.md, one command each, valid and
                           invalid, sessions that create, define, modify and undo, and the
                           ways a stream breaks (split lines, pipelining, a line too long).

The output is deterministic: the script removes the seed-* files it wrote before and writes
them again; other files (inputs the fuzzer found, fuzz-*) are left alone.

    fuzz/make_mgmt_seeds.py [REPOSITORY_ROOT]
"""
import glob
import json
import os
import struct
import sys

UA = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'
UB = '11111111-2222-4333-8444-555555555555'


def definition_seeds(root):
    seeds = {}
    for path in sorted(glob.glob(os.path.join(root, 'tests/cli/golden/def-*'))):
        with open(path, 'rb') as f:
            data = f.read()
        if data.lstrip().startswith(b'{'):  # a definition, not a transcript
            seeds['golden-' + os.path.basename(path)] = data

    def d(name, text):
        seeds[name] = text.encode() if isinstance(text, str) else text

    d('minimal', '{"mdev_type":"mtty-1","start":"auto"}')
    d('manual-attrs', '{"mdev_type":"mtty-2","start":"manual","attrs":[{"a":"b"},{"c":"d"}]}')
    d('attrs-null', '{"mdev_type":"t","start":"auto","attrs":null}')
    d('attrs-empty', '{"mdev_type":"t","start":"auto","attrs":[]}')
    d('start-not-string', '{"mdev_type":"t","start":5}')
    d('start-array', '{"mdev_type":"t","start":[true,null,1.5e3]}')
    d('start-missing', '{"mdev_type":"t"}')
    d('start-null', '{"mdev_type":"t","start":null}')
    d('type-not-string', '{"mdev_type":5,"start":"auto"}')
    d('type-nul', '{"mdev_type":"a\\u0000b","start":"auto"}')
    d('extra-keys', '{"mdev_type":"t","start":"auto","x":{"y":[1,2,{}]},"z":-0.0}')
    d('duplicate-keys', '{"mdev_type":"a","start":"manual","mdev_type":"b","start":"auto"}')
    d('attrs-object', '{"mdev_type":"t","start":"x","attrs":{"a":"b"}}')
    d('attrs-string', '{"mdev_type":"t","start":"x","attrs":["x"]}')
    d('attr-two-keys', '{"mdev_type":"t","start":"x","attrs":[{"a":"b","c":"d"}]}')
    d('attr-empty', '{"mdev_type":"t","start":"x","attrs":[{}]}')
    d('attr-number', '{"mdev_type":"t","start":"x","attrs":[{"a":1}]}')
    d('attr-nested', '{"mdev_type":"t","start":"x","attrs":[{"q\\"\\t":[true,null,{"k":-1e-7}]}]}')
    d('attr-duplicate', '{"mdev_type":"t","start":"x","attrs":[{"a":"1","a":"2"}]}')
    d('attr-value-nul', '{"mdev_type":"t","start":"x","attrs":[{"a":"x\\u0000y"}]}')
    d('attr-key-nul', '{"mdev_type":"t","start":"x","attrs":[{"a\\u0000b":"v"}]}')
    d('escapes', '{"mdev_type":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00","start":"auto",'
      '"attrs":[{"\\u001f\\u007f":"\\u2028"}]}')
    d('unicode-raw', '{"mdev_type":"t\u00e9\u4e2d\U0001f600","start":"auto"}')
    d('lone-surrogate', '{"mdev_type":"\\ud800","start":"auto"}')
    d('bad-escape', '{"mdev_type":"\\x","start":"auto"}')
    d('not-utf8', b'{"mdev_type":"\xff\xfe","start":"auto"}')
    d('overlong-utf8', b'{"mdev_type":"\xc0\xaf","start":"auto"}')
    d('bom', b'\xef\xbb\xbf{"mdev_type":"t","start":"auto"}')
    d('control-char', '{"mdev_type":"a\tb","start":"auto"}')
    d('eof-object', '{"mdev_type":"mtty-1"')
    d('eof-after-comma', '{"mdev_type": "mtty-1", "start": "x",')
    d('trailing-comma', '{"mdev_type":"t","start":"auto",}')
    d('trailing-chars', '{"mdev_type":"t","start":"auto"} x')
    d('trailing-ws', '{"mdev_type":"t","start":"auto"}\n\t \r')
    d('empty', '')
    d('ws-only', ' \n')
    d('null', 'null')
    d('array', '[{"mdev_type":"t","start":"auto"}]')
    d('numbers', '[0,-0,1,-1,9223372036854775807,9223372036854775808,18446744073709551615,'
      '18446744073709551616,-9223372036854775808,-9223372036854775809,1.0,1e308,1e309,'
      '2.2250738585072014e-308,5e-324,1e-400,0.1,123456789012345678901234567890,1E+2,-1.5e-0]')
    d('bad-numbers', '[01]')
    d('bad-number-dot', '[1.]')
    d('bad-number-exp', '[1e]')
    d('bad-number-minus', '[-]')
    d('literals', '[true,false,null,tru]')
    d('deep-ok', '[' * 127 + ']' * 127)
    d('deep-too', '[' * 128 + ']' * 128)
    d('deep-objects', '{"a":' * 130 + '1' + '}' * 130)
    d('many-attrs', json.dumps({'mdev_type': 't', 'start': 'auto',
                                'attrs': [{'a%d' % i: str(i)} for i in range(128)]}))
    d('too-many-attrs', json.dumps({'mdev_type': 't', 'start': 'auto',
                                    'attrs': [{'a': 'b'}] * 129}))
    d('long-type', json.dumps({'mdev_type': 'x' * 255, 'start': 'auto'}))
    d('too-long-type', json.dumps({'mdev_type': 'x' * 256, 'start': 'auto'}))
    d('long-value', json.dumps({'mdev_type': 't', 'start': 'auto',
                                'attrs': [{'k' * 255: 'v' * 4096}]}))
    d('too-long-value', json.dumps({'mdev_type': 't', 'start': 'auto',
                                    'attrs': [{'k': 'v' * 4097}]}))
    d('too-long-name', json.dumps({'mdev_type': 't', 'start': 'auto',
                                   'attrs': [{'k' * 256: 'v'}]}))
    d('max-size', '{"mdev_type":"t","start":"auto"}' + ' ' * (65536 - 32))
    d('too-large', '{"mdev_type":"t","start":"auto"}' + ' ' * (65537 - 32))
    return seeds


def records(*chunks):
    out = bytearray()
    for c in chunks:
        c = c.encode() if isinstance(c, str) else c
        assert len(c) <= 0xffff
        out += struct.pack('<H', len(c)) + c
    return bytes(out)


def line(**req):
    return json.dumps(req, separators=(',', ':')) + '\n'


def lines(*reqs):
    return records(''.join(line(**r) for r in reqs))


def ctl_seeds():
    seeds = {}
    mtty2 = dict(command='create', parent='mtty', mdev_type='mtty-2')

    def s(name, data):
        seeds[name] = data

    # one command each, as docs/control-protocol.md shows them
    s('types', lines(dict(command='types')))
    s('types-parent', lines(dict(command='types', parent='mtty', id=1)))
    s('list', lines(dict(command='list')))
    s('list-defined', lines(dict(command='list', defined=True, parent='mtty', uuid=UA)))
    s('create', lines(mtty2))
    s('create-uuid-attrs', lines(dict(command='create', parent='mtty', mdev_type='mtty-2',
                                      uuid=UA, attrs=[{'vendor/port0_backend': 'loopback'}])))
    s('create-null', lines(dict(command='create', parent='null', mdev_type='null-1',
                                uuid=UB, id='x')))
    s('create-bad-attr', lines(dict(command='create', parent='mtty', mdev_type='mtty-1',
                                    attrs=[{'nope': 'v'}])))
    s('create-pty', lines(dict(command='create', parent='mtty', mdev_type='mtty-1',
                               attrs=[{'vendor/port0_backend': 'pty'}])))
    s('create-twice', lines(dict(mtty2, uuid=UA), dict(mtty2, uuid=UA),
                            dict(command='create', parent='null', mdev_type='null-1', uuid=UA)))
    s('create-remove', lines(dict(mtty2, uuid=UA), dict(command='info', uuid=UA),
                             dict(command='remove', uuid=UA), dict(command='remove', uuid=UA)))
    s('create-errors', lines(dict(command='create', parent='MTTY', mdev_type='mtty-2'),
                             dict(command='create', parent='nope', mdev_type='x'),
                             dict(command='create', parent='mtty', mdev_type='mtty-9'),
                             dict(command='create', parent='mtty', mdev_type='mtty-2',
                                  uuid='not-a-uuid'),
                             dict(command='create', parent='../x', mdev_type='mtty-2')))
    s('define', lines(dict(command='define', parent='mtty', mdev_type='mtty-1', uuid=UA,
                           start='auto', attrs=[{'a': 'b'}])))
    s('define-modify-undefine', lines(
        dict(command='define', parent='mtty', mdev_type='mtty-1', uuid=UA),
        dict(command='define', parent='mtty', mdev_type='mtty-1', uuid=UA),
        dict(command='modify', uuid=UA, addattr='a', value='1'),
        dict(command='modify', uuid=UA, addattr='b', value='2', index=0),
        dict(command='modify', uuid=UA, delattr=True, index=1),
        dict(command='modify', uuid=UA, mdev_type='mtty-2', start='auto'),
        dict(command='list', defined=True),
        dict(command='undefine', uuid=UA), dict(command='undefine', uuid=UA)))
    s('modify-errors', lines(
        dict(command='modify', uuid=UA),
        dict(command='define', parent='mtty', mdev_type='mtty-1', uuid=UA),
        dict(command='define', parent='null', mdev_type='null-1', uuid=UA),
        dict(command='modify', uuid=UA, start='auto'),
        dict(command='modify', uuid=UA, parent='null', addattr='x'),
        dict(command='modify', uuid=UA, parent='null', delattr=True, index=7),
        dict(command='modify', uuid=UA, parent='mtty', addattr='x', value='y', index=5),
        dict(command='modify', uuid=UA, parent='mtty', index=-1)))
    s('start-parent', lines(
        dict(command='define', parent='mtty', mdev_type='mtty-2', uuid=UA, start='auto'),
        dict(command='define', parent='mtty', mdev_type='mtty-1', uuid=UB, start='auto',
             attrs=[{'bad': 'x'}]),
        dict(command='start_parent', parent='mtty'),
        dict(command='start_parent', parent='mtty'),
        dict(command='list'), dict(command='list', defined=True)))
    s('events', lines(dict(command='events'), mtty2, dict(command='events'),
                      dict(command='define', parent='null', mdev_type='null-1', uuid=UB),
                      dict(command='start_parent', parent='null')))
    s('info-missing', lines(dict(command='info', uuid=UA), dict(command='info')))
    # malformed requests
    s('not-json', records('hello\n{"command":\n[1,2]\n"x"\nnull\n'))
    s('no-command', lines(dict(id=5), dict(command=5), dict(command='nope'),
                          dict(command='types', bogus=1), dict(command='list', defined='yes')))
    s('not-utf8', records(b'{"command":"\xff"}\n'))
    s('nul-in-string', records('{"command":"types\\u0000x"}\n{"command":"create",'
                               '"parent":"mtty","mdev_type":"mtty-2\\u0000"}\n'))
    s('deep', records('[' * 200 + '\n'))
    # the stream: split, pipelined, blank lines, no final newline, too long
    req = line(**mtty2)
    s('split-bytes', records(*[req[i] for i in range(len(req))]))
    s('split-halves', records(req[:10], req[10:] + line(command='list')))
    s('blank-lines', records('\n\n' + line(command='types') + '\r\n\n'))
    s('no-newline', records(line(command='list') + '{"command":"types"}'))
    s('too-long', records(*(['{"command":"list","id":"' + 'x' * 60000] + ['y' * 6000] * 2)))
    at_max = '{"command":"list","id":"' + 'x' * (65536 - 28) + '"}\n'
    s('exactly-max', records(at_max[:30000], at_max[30000:]))
    s('one-over-max', records(at_max[:30000], 'x' + at_max[30000:]))
    return seeds


def write(corpus, seeds):
    os.makedirs(corpus, exist_ok=True)
    for name in os.listdir(corpus):
        if name.startswith('seed-'):
            os.remove(os.path.join(corpus, name))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(corpus, 'seed-' + name), 'wb') as f:
            f.write(data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    write(os.path.join(root, 'fuzz/corpus/definition'), definition_seeds(root))
    write(os.path.join(root, 'fuzz/corpus/ctl'), ctl_seeds())


if __name__ == '__main__':
    main()
