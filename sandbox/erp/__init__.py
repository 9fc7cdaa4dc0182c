"""The ERP sandbox: a NetSuite SuiteTalk REST (record v1 + SuiteQL) emulation. See README.md."""
