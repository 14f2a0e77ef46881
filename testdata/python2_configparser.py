# Reads an INI file the way the Python original (ateska/ramona, Python 2)
# did, with ConfigParser and case-preserving keys, and prints every section
# and value (repr), [DEFAULT] included. The reference for ini_test.go's
# Python 2 column: python2 testdata/python2_configparser.py FILE
import ConfigParser, sys

c = ConfigParser.RawConfigParser()
c.optionxform = str
c.read([sys.argv[1]])
print("[DEFAULT]")
for k, v in c.defaults().items():
    print("  %r = %r" % (k, v))
for s in c.sections():
    print("[%s]" % s)
    for k, v in c.items(s):
        print("  %r = %r" % (k, v))
