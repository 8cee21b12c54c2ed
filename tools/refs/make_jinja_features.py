#!/usr/bin/python3
"""Writes tests/text/data/jinja_features.json: small templates exercising one Jinja feature each,
rendered by Python's Jinja2 (Debian python3-jinja2) with transformers' chat-template settings (see
make_chat_renders.py). tests/text/jinja_features_test.cpp renders the same templates with lfm.cpp
and compares byte for byte; a case whose render raises in Jinja2 records the error, and lfm.cpp must
fail too.

Run from the repository root:  /usr/bin/python3 tools/refs/make_jinja_features.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_chat_renders  # noqa: E402

ROOT = make_chat_renders.ROOT
OUT = os.path.join(ROOT, "tests", "text", "data", "jinja_features.json")

CTX = {
    "name": "World",
    "n": 7,
    "f": 2.5,
    "neg": -3,
    "yes": True,
    "no": False,
    "nothing": None,
    "empty": "",
    "items": [3, 1, 2],
    "words": ["b", "A", "c", "a"],
    "users": [{"name": "ann", "age": 31, "admin": True}, {"name": "bob", "age": 25, "admin": False},
              {"name": "cy", "age": 40}],
    "d": {"z": 1, "a": 2, "m": {"k": [1, 2]}},
    "text": "  Hello, World!  \n",
    "multi": "line one\nline two\n\nline four",
    "uni": "héllo wörld ß 日本",
    "nested": [[1, 2], [3, 4]],
    "big": 123456789012,
    "floats": [1.0, 0.1, 1e-07, 1e16, 123456.789, -0.0, 3.0e20],
}

CASES = [
    # output and literals
    ("print-values", "{{ name }}|{{ n }}|{{ f }}|{{ yes }}|{{ nothing }}|{{ undefined_var }}|{{ items }}|{{ d }}"),
    ("print-floats", "{% for x in floats %}{{ x }};{% endfor %}{{ 1/3 }};{{ 10/2 }};{{ 2**0.5 }}"),
    ("print-repr-strings", "{{ ['it\\'s', \"say \\\"hi\\\"\", 'back\\\\slash', 'tab\\t', 'nl\\n', 'é'] }}"),
    ("print-tuple", "{{ (1, 'a') }}{{ (1,) }}{{ () }}"),
    ("literals", "{{ [1, 2.0, 'x', none, true, False] }}{{ {'a': 1, 'b': [1]} }}"),
    ("string-concat-adjacent", "{{ 'a' 'b' \"c\" }}"),
    ("string-escapes", "{{ '\\x41\\u00e9\\n' | tojson }}"),
    # arithmetic
    ("arith-int", "{{ 7 + 3 }} {{ 7 - 10 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }}"),
    ("arith-float", "{{ f * 2 }} {{ f + 1 }} {{ f // 1 }} {{ 7.5 % 2 }} {{ n / 7 }} {{ -f }} {{ +n }}"),
    ("arith-strings", "{{ 'ab' * 3 }}{{ 'x' + 'y' }}{{ [1] * 2 }}{{ [1] + [2] }}{{ 3 * 'z' }}"),
    ("arith-precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 10 - 2 - 3 }} {{ 1 ~ 2 + 3 }}"),
    ("arith-precedence-2", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 10 - 2 - 3 }} {{ 1 ~ (2 + 3) }}"),
    ("concat-tilde", "{{ 1 ~ 'a' ~ none ~ undefined_var ~ [1] ~ yes }}"),
    ("bool-arith", "{{ true + 1 }} {{ yes * 3 }}"),
    ("big-int", "{{ big * 10 }} {{ big // 7 }}"),
    # comparison and logic
    ("compare", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 1 != 2 }} {{ [1,2] < [1,3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}"),
    ("logic-values", "{{ 0 or 'x' }}|{{ 'a' and 'b' }}|{{ '' and 'b' }}|{{ none or none }}|{{ not 0 }}|{{ not items }}"),
    ("in-operator", "{{ 'ell' in 'hello' }} {{ 2 in items }} {{ 'a' in d }} {{ 'q' not in d }} {{ 5 not in items }} {{ 'x' in undefined_var }}"),
    ("equality-types", "{{ none == none }} {{ [1] == [1] }} {{ {'a':1} == {'a':1} }} {{ (1,2) == [1,2] }} {{ 'a' == 1 }} {{ undefined_var == undefined_var }}"),
    # conditionals
    ("if-elif-else", "{% for x in [1, 2, 3, 4] %}{% if x == 1 %}one{% elif x == 2 %}two{% elif x == 3 %}three{% else %}other{% endif %},{% endfor %}"),
    ("inline-if", "{{ 'y' if yes else 'n' }}{{ 'y' if no else 'n' }}{{ 'only' if no }}|{{ 'a' if no else 'b' if yes else 'c' }}"),
    ("truthiness", "{% for v in [0, 1, '', 'a', [], [0], {}, none, 0.0] %}{{ 'T' if v else 'F' }}{% endfor %}"),
    # loops
    ("for-loop-vars", "{% for x in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}"),
    ("for-prev-next", "{% for x in items %}[{{ loop.previtem }}|{{ loop.nextitem }}]{% endfor %}"),
    ("for-cycle", "{% for x in items %}{{ loop.cycle('odd', 'even') }} {% endfor %}"),
    ("for-else", "{% for x in [] %}x{% else %}empty{% endfor %}{% for x in items %}{{ x }}{% else %}no{% endfor %}"),
    ("for-filter", "{% for u in users if u.age > 26 %}{{ u.name }}{{ loop.index }}/{{ loop.length }} {% endfor %}"),
    ("for-unpack-items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"),
    ("for-dict-keys", "{% for k in d %}{{ k }}{% endfor %}"),
    ("for-string", "{% for c in 'héllo' %}{{ c }}.{% endfor %}"),
    ("for-nested-loop", "{% for row in nested %}{% for x in row %}{{ loop.index }}:{{ x }} {% endfor %}/{{ loop.index }} {% endfor %}"),
    ("for-break-continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
    ("for-scope", "{% set x = 'outer' %}{% for i in [1] %}{% set x = 'inner' %}{{ x }}{% endfor %}{{ x }}"),
    ("for-reverse-slice", "{% for x in items[::-1] %}{{ x }}{% endfor %}{{ items[1:] }}{{ items[:-1] }}{{ items[::2] }}{{ 'abcdef'[1:4] }}{{ 'abcdef'[::-2] }}{{ items[5:] }}"),
    ("range", "{{ range(5) | list }}{{ range(2, 8, 3) | list }}{{ range(5, 0, -2) | list }}"),
    # set and namespace
    ("set-simple", "{% set a = 1 %}{% set b, c = [2, 3] %}{{ a }}{{ b }}{{ c }}"),
    ("set-block", "{% set block %}  inner {{ name }}  {% endset %}[{{ block }}]"),
    ("set-block-filter", "{% set block | upper | trim %}  inner {{ name }}  {% endset %}[{{ block }}]"),
    ("namespace", "{% set ns = namespace(count=0, items=[]) %}{% for x in items %}{% set ns.count = ns.count + x %}{% set ns.items = ns.items + [x * 2] %}{% endfor %}{{ ns.count }} {{ ns.items }}"),
    ("namespace-if-scope", "{% set v = 1 %}{% if true %}{% set v = 2 %}{% endif %}{{ v }}"),
    # macros
    ("macro-defaults", "{% macro greet(who, greeting='Hello', punct='!') %}{{ greeting }}, {{ who }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', 'Hi') }} {{ greet('C', punct='?') }}"),
    ("macro-recursive", "{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * (fact(k - 1) | int) }}{% endif %}{% endmacro %}{{ fact(5) }}"),
    ("macro-caller", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ name }}{% endcall %}"),
    ("macro-caller-args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) each([1, 2]) %}<{{ v }}>{% endcall %}"),
    ("macro-varargs-kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}"),
    ("macro-missing-arg", "{% macro m(a, b) %}[{{ a }}][{{ b }}]{% endmacro %}{{ m(1) }}"),
    # filters
    ("filter-block", "{% filter upper %}hello {{ name }}{% endfilter %}"),
    ("filter-trim-case", "[{{ text | trim }}][{{ name | upper }}][{{ name | lower }}][{{ 'hello wORLD-foo(bar' | title }}][{{ 'hELLO' | capitalize }}][{{ uni | upper }}]"),
    ("filter-length", "{{ items | length }} {{ 'héllo' | length }} {{ d | count }} {{ undefined_var | length }}"),
    ("filter-tojson", "{{ d | tojson }}|{{ users[0] | tojson }}|{{ 'é\"\\n' | tojson }}|{{ nothing | tojson }}|{{ floats | tojson }}"),
    ("filter-tojson-indent", "{{ d | tojson(indent=2) }}|{{ [] | tojson(indent=2) }}|{{ {} | tojson(indent=4) }}"),
    ("filter-tojson-options", "{{ d | tojson(sort_keys=true) }}|{{ d | tojson(separators=(',', ':')) }}|{{ 'é' | tojson(ensure_ascii=true) }}"),
    ("filter-join", "{{ items | join(', ') }}|{{ words | join }}|{{ users | join('/', attribute='name') }}"),
    ("filter-default", "{{ undefined_var | default('dflt') }}|{{ nothing | default('x') }}|{{ empty | default('e', true) }}|{{ undefined_var | d('dd') }}|{{ name | default('no') }}"),
    ("filter-first-last", "{{ items | first }}{{ items | last }}{{ 'abc' | first }}{{ [] | first }}"),
    ("filter-map", "{{ users | map(attribute='name') | list }}{{ words | map('upper') | join }}{{ users | map(attribute='admin', default='?') | list }}"),
    ("filter-select", "{{ users | selectattr('admin') | map(attribute='name') | list }}{{ users | rejectattr('admin') | map(attribute='name') | list }}{{ users | selectattr('age', 'gt', 30) | map(attribute='name') | list }}{{ users | selectattr('name', 'equalto', 'bob') | list | length }}{{ items | select('odd') | list }}{{ items | reject('even') | list }}"),
    ("filter-sort", "{{ items | sort }}{{ words | sort }}{{ words | sort(case_sensitive=true) }}{{ items | sort(reverse=true) }}{{ users | sort(attribute='age') | map(attribute='name') | list }}"),
    ("filter-dictsort", "{{ d | dictsort }}{{ {'b': 1, 'A': 2} | dictsort(true) }}{{ {'x': 2, 'y': 1} | dictsort(by='value') }}"),
    ("filter-unique-reverse", "{{ [1, 2, 1, 3] | unique | list }}{{ words | unique | list }}{{ items | reverse | list }}{{ 'abc' | reverse }}"),
    ("filter-numbers", "{{ '42' | int }} {{ 'x' | int(5) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ n | float }} {{ neg | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(method='ceil') }} {{ n | round }}"),
    ("filter-string", "{{ items | string }}{{ nothing | string }}{{ 1.0 | string }}{{ yes | string }}"),
    ("filter-indent", "[{{ multi | indent }}][{{ multi | indent(2, true) }}][{{ multi | indent(2, blank=true) }}]"),
    ("filter-replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ name | replace('o', '0') }}"),
    ("filter-misc", "{{ 'a b  c' | wordcount }} {{ items | sum }} {{ users | sum(attribute='age') }} {{ items | min }} {{ items | max }} {{ [1,2,3,4,5] | batch(2) | list }} {{ d | items | list }} {{ '<a&b>' | e }} {{ 'ab' | center(6) }}|"),
    ("filter-format", "{{ '%s is %d' | format('x', 3) }} {{ '%s-%s' % ('a', 'b') }} {{ '%s' % name }}"),
    ("filter-safe-list", "{{ 'x' | safe }}{{ 'abc' | list }}{{ d | list }}"),
    # tests
    ("tests-types", "{{ name is string }}{{ n is number }}{{ n is integer }}{{ f is float }}{{ yes is boolean }}{{ d is mapping }}{{ items is iterable }}{{ items is sequence }}{{ nothing is none }}{{ undefined_var is defined }}{{ undefined_var is undefined }}{{ name is not string }}"),
    ("tests-values", "{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ n is eq 7 }}{{ n is equalto 7 }}{{ n is gt 3 }}{{ n is ge(8) }}{{ n is lt 3 }}{{ yes is true }}{{ no is false }}{{ 1 is true }}{{ 'a' is in 'abc' }}{{ nothing is sameas none }}{{ 'abc' is lower }}{{ 'ABC' is upper }}"),
    ("tests-callable", "{{ range is callable }}{{ name is callable }}{{ 'upper' is filter }}{{ 'odd' is test }}"),
    # methods
    ("str-methods", "{{ text.strip() }}|{{ text.lstrip() }}|{{ text.rstrip() }}|{{ 'xxhixx'.strip('x') }}|{{ name.upper() }}{{ name.lower() }}|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}"),
    ("str-split", "{{ 'a,b,,c'.split(',') }}{{ '  a  b c '.split() }}{{ 'a b c'.split(' ', 1) }}{{ 'a,b,c'.rsplit(',', 1) }}{{ multi.splitlines() }}"),
    ("str-startswith", "{{ name.startswith('Wo') }}{{ name.endswith('ld') }}{{ name.startswith(('x', 'W')) }}{{ name.endswith('x') }}"),
    ("str-find-replace", "{{ name.replace('o', '0') }}{{ name.find('o') }}{{ name.rfind('o') }}{{ name.count('o') }}{{ name.find('z') }}{{ '-'.join(['a', 'b']) }}"),
    ("str-format-method", "{{ '{} and {}'.format('a', 'b') }} {{ '{0}{0}'.format('x') }} {{ '{k}!'.format(k='v') }}"),
    ("str-predicates", "{{ '123'.isdigit() }}{{ 'abc'.isalpha() }}{{ '  '.isspace() }}{{ 'a1'.isalnum() }}{{ ''.isdigit() }}"),
    ("dict-methods", "{{ d.keys() | list }}{{ d.values() | list }}{{ d.get('a') }}{{ d.get('q') }}{{ d.get('q', 'dflt') }}{{ d['m']['k'][1] }}{{ d.m.k.0 }}"),
    ("list-methods", "{{ items.index(2) }}{{ items.count(1) }}{{ items[0] }}{{ items[-1] }}{{ items[10] }}|"),
    # attribute access and undefined
    ("attr-vs-item", "{{ users[0].name }}{{ users[0]['name'] }}{{ users[2].admin }}|{{ d.items | length if false else 'm' }}{{ d['items'] is defined }}"),
    ("undefined-print", "[{{ undefined_var }}][{{ d.missing }}][{{ users[5] }}][{{ nothing.attr }}]"),
    ("undefined-attr-error", "{{ undefined_var.attr }}"),
    ("undefined-arith-error", "{{ undefined_var + 1 }}"),
    ("undefined-iter", "{% for x in undefined_var %}x{% endfor %}ok{{ undefined_var | list }}"),
    # whitespace control
    ("ws-trim-blocks", "{% if true %}\nA\n{% endif %}\nB\n  {% if true %}\n  C\n  {% endif %}\nD"),
    ("ws-minus", "a  {%- if true -%}  b  {%- endif -%}  c {{- ' d ' -}} e"),
    ("ws-plus", "x\n    {%+ if true %}y{% endif +%}\nz"),
    ("ws-comment", "a\n  {# comment #}\nb {#- c -#} c"),
    ("ws-variable-no-trim", "{{ 'x' }}\n{{ 'y' }}\n"),
    ("ws-lstrip-inline", "text {% if true %}yes{% endif %} end\n    {% if true %}\n    indented\n    {% endif %}"),
    ("ws-crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n"),
    ("raw-block", "{% raw %}{{ not rendered }} {% if %}{% endraw %}|{%- raw -%}  spaced  {%- endraw -%}|"),
    ("with-block", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}"),
    # errors
    ("raise-exception", "{{ raise_exception('custom failure') }}"),
    ("type-error-concat", "{{ 'a' + 1 }}"),
    ("div-zero", "{{ 1 // 0 }}"),
    ("unsafe-append", "{% set l = [] %}{{ l.append(1) }}"),
    ("range-too-big", "{% for i in range(10**9) %}{% endfor %}"),
    ("unknown-filter", "{{ 1 | no_such_filter }}"),
    ("not-callable", "{{ name() }}"),
    ("strftime", "{{ strftime_now('%Y-%m-%d %H:%M %B %A %b %a %j') }}"),
    ("dict-literal-key-order", "{{ {'z': 1, 'a': 2, 'z': 3} }}"),
    ("nested-data-tojson", "{{ {'a': [1, {'b': none, 'c': [true, 1.5]}], 'd': 'x'} | tojson }}"),
    ("loop-over-items-filter", "{% for m in users if m.admin is defined and m.admin %}{{ m.name }}{% endfor %}"),
    ("messages-reverse-index", "{% for u in users[::-1] %}{% set idx = (users | length - 1) - loop.index0 %}{{ idx }}{{ u.name }} {% endfor %}"),
    ("string-index", "{{ name[0] }}{{ name[-1] }}{{ uni[1] }}{{ uni[-2:] }}"),
    ("is-test-in-condition", "{% if name is string and name | length > 3 %}long{% endif %}"),
    ("not-precedence", "{{ not name is string }}{{ not 1 == 2 }}{{ -n | abs }}{{ not yes or yes }}"),
    ("filter-on-call", "{{ name.split('o') | join('-') | upper }}"),
]


def main():
    env = make_chat_renders.make_env()
    out = []
    for name, src in CASES:
        case = {"name": name, "template": src, "context": CTX}
        try:
            case["rendered"] = env.from_string(src).render(**CTX)
        except Exception as e:
            case["error"] = "%s: %s" % (type(e).__name__, e)
        out.append(case)
    doc = {"generator": "tools/refs/make_jinja_features.py", "now_unix_seconds": make_chat_renders.NOW,
           "cases": out}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("%d cases, %d errors" % (len(out), sum(1 for c in out if "error" in c)))


if __name__ == "__main__":
    main()
