"""Screens of the review app: the tabbed review screen, the help screen and the value picker."""
